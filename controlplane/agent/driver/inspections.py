"""Containers' inspect data kept between lists, so observing a host costs one list call.

The failure this module exists to prevent: the control plane lists a host's
containers every reconcile round and after every container event, and each list
inspected every container, so a host busy creating containers spent its engine
on being watched (over 130 inspects to create 10 containers). A kept inspection
is used only while both of these hold:

- the engine's event stream, followed by the agent's `LinkKeeper`, has reported
  nothing for the container since it was inspected (a restart, a rename, an
  update; an event the stream missed while it was down clears everything);
- the list's summary of the container still matches the inspection: its state,
  health, exit code and network endpoints (an endpoint changes with any
  connect, disconnect or alias), which closes the moment between a change and
  its event reaching the agent.

Without an event stream (an agent started with WEFT_AGENT_WATCH_EVENTS off)
nothing is kept and every list inspects every container, as before.
"""

import re
import threading
import weakref
from collections.abc import Callable
from typing import Any

import docker

from controlplane.contract.schemas import ContainerState

# A summary's Status: "Up 3 seconds (healthy)", "Exited (137) 2 minutes ago", ...
_PARENS = re.compile(r"\(([^)]*)\)")
# A summary's health parenthesis as inspect's State.Health.Status.
_HEALTH = {"healthy": "healthy", "unhealthy": "unhealthy", "health: starting": "starting"}

Mark = tuple[str, str, int | None, tuple[tuple[str, str, str], ...]]


def _mark(state: str, health: str, exit_code: int | None, networks: dict[str, Any]) -> Mark:
    endpoints = tuple(
        sorted(
            (name, ep.get("EndpointID") or "", ep.get("IPAddress") or "")
            for name, ep in (networks or {}).items()
        )
    )
    has_code = state in ("exited", "restarting")
    return (
        state,
        health if state == "running" else "",
        exit_code if has_code else None,
        endpoints,
    )


def summary_mark(summary: dict[str, Any]) -> Mark:
    """What a list summary says about the parts of a container that change."""
    state = summary.get("State") or ""
    groups = _PARENS.findall(summary.get("Status") or "")
    health = next((_HEALTH[g] for g in groups if g in _HEALTH), "")
    code = next((int(g) for g in groups if g.lstrip("-").isdigit()), None)
    networks = (summary.get("NetworkSettings") or {}).get("Networks") or {}
    return _mark(state, health, code, networks)


def inspect_mark(data: dict[str, Any]) -> Mark:
    """The same parts read from a container's inspect data (equal to `summary_mark`'s)."""
    state = data.get("State") or {}
    health = (state.get("Health") or {}).get("Status") or ""
    networks = (data.get("NetworkSettings") or {}).get("Networks") or {}
    return _mark(state.get("Status") or "", health, state.get("ExitCode"), networks)


class Inspections:
    """Container states by id, each dropped at the container's next event."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._kept: dict[str, tuple[Mark, ContainerState]] = {}
        # Events seen per container id, and streams begun: an inspection started
        # before either moved is not kept (an event may have come in between).
        self._events: dict[str, int] = {}
        self._epoch = 0
        self._live = False

    def following(self) -> None:
        """The event stream is (re)subscribed: keep from now on, nothing from before."""
        with self._lock:
            self._epoch += 1
            self._kept.clear()
            self._events.clear()
            self._live = True

    def lost(self) -> None:
        """The event stream broke: keep nothing until it is followed again."""
        with self._lock:
            self._epoch += 1
            self._live = False
            self._kept.clear()

    def changed(self, container_id: str, gone: bool = False) -> None:
        """The engine reported an event for the container (or the agent changed it).

        `gone`: it was destroyed. Its count goes too: an inspection that raced the
        removal may still be kept, but no list shows the container again.
        """
        with self._lock:
            self._kept.pop(container_id, None)
            if gone:
                self._events.pop(container_id, None)
            else:
                self._events[container_id] = self._events.get(container_id, 0) + 1

    def state(
        self,
        summary: dict[str, Any],
        inspect: Callable[[], dict[str, Any]],
        to_state: Callable[[dict[str, Any]], ContainerState],
    ) -> ContainerState:
        """The listed container's state: the kept one if still true, else inspected now."""
        cid: str = summary["Id"]
        with self._lock:
            kept = self._kept.get(cid)
            if kept is not None and kept[0] == summary_mark(summary):
                return kept[1]
            token = (self._live, self._epoch, self._events.get(cid, 0))
        data = inspect()
        state = to_state(data)
        with self._lock:
            if token[0] and token == (self._live, self._epoch, self._events.get(cid, 0)):
                self._kept[cid] = (inspect_mark(data), state)
        return state


# One per engine client whose events a LinkKeeper follows (see `follow`).
_BY_ENGINE: "weakref.WeakKeyDictionary[docker.DockerClient, Inspections]" = (
    weakref.WeakKeyDictionary()
)


def follow(client: docker.DockerClient) -> Inspections:
    """The kept states of `client`'s containers (made for the keeper following its events)."""
    return _BY_ENGINE.setdefault(client, Inspections())


def of(client: docker.DockerClient) -> Inspections | None:
    """The kept states of `client`'s containers; None when no event stream keeps them true."""
    return _BY_ENGINE.get(client)


def changed(client: docker.DockerClient, container_id: str, gone: bool = False) -> None:
    """The agent changed (`gone`: removed) the container itself: drop what is kept of it
    now, not when the event arrives."""
    kept = _BY_ENGINE.get(client)
    if kept is not None:
        kept.changed(container_id, gone)
