"""The engine connection, docker SDK error translation, listing, and per-name locks."""

import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import docker
import docker.errors
import requests

from controlplane.agent.errors import (
    Conflict,
    DriverError,
    EngineUnavailable,
    ImageMissing,
    Invalid,
    NotFound,
)
from controlplane.contract import labels as L

S = TypeVar("S")

# The engine answers 500 when a published port is taken; to the caller it is a conflict.
_IN_USE = ("port is already allocated", "address already in use")


def connect(url: str, timeout: float) -> docker.DockerClient:
    """A client of the engine at `url` (the SDK's `base_url`)."""
    return docker.DockerClient(base_url=url, timeout=int(timeout))


def _explain(exc: docker.errors.APIError) -> str:
    explanation = exc.explanation
    if isinstance(explanation, bytes):
        explanation = explanation.decode(errors="replace")
    return str(explanation or exc)


@contextmanager
def translate(what: str) -> Iterator[None]:
    """Turn docker SDK and transport errors inside the block into the agent's own."""
    try:
        yield
    except docker.errors.ImageNotFound as exc:
        raise ImageMissing(f"{what}: {_explain(exc)}") from exc
    except docker.errors.NotFound as exc:
        raise NotFound(f"{what}: {_explain(exc)}") from exc
    except docker.errors.APIError as exc:
        status = exc.status_code or 500
        if status == 409 or any(text in _explain(exc) for text in _IN_USE):
            raise Conflict(f"{what}: {_explain(exc)}") from exc
        if status == 400:
            raise Invalid(f"{what}: {_explain(exc)}") from exc
        raise DriverError(f"{what}: {_explain(exc)}") from exc
    except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as exc:
        raise EngineUnavailable(f"{what}: {exc}") from exc
    except docker.errors.DockerException as exc:
        raise DriverError(f"{what}: {exc}") from exc


def managed_filters(label_filters: list[str]) -> dict[str, list[str]]:
    """The engine's list filter for weft's objects that carry every `k=v` of `label_filters`."""
    return {"label": [f"{L.MANAGED}={L.MANAGED_VALUE}", *label_filters]}


def inspect_each(
    summaries: Iterable[dict[str, Any]],
    what: Callable[[dict[str, Any]], str],
    inspect: Callable[[dict[str, Any]], S],
) -> list[S]:
    """Each listed object inspected; one removed between the list and its inspect is left out."""
    out: list[S] = []
    for summary in summaries:
        try:
            with translate(what(summary)):
                out.append(inspect(summary))
        except NotFound:
            continue
    return out


class KeyedLocks:
    """One lock per object name, so concurrent ensures of one name run one at a time."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[str, threading.Lock] = {}

    @contextmanager
    def hold(self, key: str) -> Iterator[None]:
        """Hold the lock of `key` for the block."""
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            yield


# Ensure, delete, restart and link updates of one container name never interleave.
NAME_LOCKS = KeyedLocks()
