"""A small synchronous client of the control plane's REST API (what `weft` commands use).

Errors are translated once, here: the control plane answered with an error →
`ControlPlaneError` (status, title, detail and the `errors[].loc` of its
problem+json body); it could not be reached or did not answer in time →
`ControlPlaneUnavailable`, with a one-line message. Tests swap the network for
`httpx.MockTransport` through `transport=`.
"""

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self

import httpx

from controlplane.contract.schemas import Problem, ProblemError

DEFAULT_URL = "http://127.0.0.1:8000"

Params = Mapping[str, str | int | bool | None]


class ControlPlaneClientError(Exception):
    """Base of every error this client raises."""


class ControlPlaneUnavailable(ControlPlaneClientError):
    """The control plane could not be reached, or did not answer in time."""


class ControlPlaneError(ControlPlaneClientError):
    """The control plane answered with an error (its problem+json body, parsed)."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str | None = None,
        errors: list[ProblemError] | None = None,
    ) -> None:
        super().__init__(f"{status} {title}: {detail}" if detail else f"{status} {title}")
        self.status = status
        self.title = title
        self.detail = detail
        self.errors = errors or []


def error_of(response: httpx.Response) -> ControlPlaneError:
    """The `ControlPlaneError` an error response stands for (problem+json or not)."""
    problem = Problem.of_response(response.status_code, response.reason_phrase, response.text)
    return ControlPlaneError(problem.status, problem.title, problem.detail, problem.errors)


def _unavailable(url: str, exc: httpx.TransportError) -> ControlPlaneUnavailable:
    reason = str(exc) or type(exc).__name__
    if isinstance(exc, httpx.TimeoutException):
        return ControlPlaneUnavailable(f"the control plane at {url} did not answer in time")
    return ControlPlaneUnavailable(f"cannot reach the control plane at {url}: {reason}")


@dataclass
class ServerSentEvent:
    """One event of a `text/event-stream`."""

    data: str
    event: str = "message"
    id: str | None = None
    extra: dict[str, str] = field(default_factory=dict)

    def json(self) -> Any:
        """The data, parsed as JSON."""
        return json.loads(self.data)


def parse_sse(lines: Iterable[str]) -> Iterator[ServerSentEvent]:
    """Events from the lines of an SSE stream (comments skipped, `data:` lines joined)."""
    data: list[str] = []
    event, event_id = "message", None
    extra: dict[str, str] = {}
    for raw in lines:
        line = raw.rstrip("\r\n")
        if not line:
            if data:
                yield ServerSentEvent("\n".join(data), event, event_id, extra)
            data, event, extra = [], "message", {}
            continue
        if line.startswith(":"):
            continue  # a comment: keep-alives and the server's "subscribed" marker
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "data":
            data.append(value)
        elif name == "event":
            event = value
        elif name == "id":
            event_id = value  # the last id persists across events, as the spec says
        else:
            extra[name] = value
    if data:
        yield ServerSentEvent("\n".join(data), event, event_id, extra)


class ApiClient:
    """Sync client of one control plane. Use as `with ApiClient(url, token) as api:`."""

    def __init__(
        self,
        base_url: str = DEFAULT_URL,
        token: str | None = None,
        *,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 120.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        headers = {"Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        # The read timeout outlasts the server's own `?wait=true` timeout (60 s by default).
        self._http = httpx.Client(
            base_url=self.base_url,
            headers=headers,
            timeout=httpx.Timeout(timeout, connect=5.0),
            transport=transport,
        )

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def _send(
        self, method: str, path: str, params: Params | None = None, body: Any = None
    ) -> httpx.Response:
        query = {k: _query_value(v) for k, v in (params or {}).items() if v is not None}
        try:
            response = self._http.request(method, path, params=query, json=body)
        except httpx.TransportError as exc:
            raise _unavailable(self.base_url, exc) from None
        if not response.is_success:
            raise error_of(response)
        return response

    def request(
        self, method: str, path: str, params: Params | None = None, body: Any = None
    ) -> Any:
        """One call; the parsed JSON answer (None for an empty one)."""
        response = self._send(method, path, params, body)
        return response.json() if response.content else None

    def get(self, path: str, params: Params | None = None) -> Any:
        """GET path."""
        return self.request("GET", path, params)

    def post(self, path: str, body: Any = None, params: Params | None = None) -> Any:
        """POST a JSON body."""
        return self.request("POST", path, params, body)

    def put(self, path: str, body: Any = None, params: Params | None = None) -> Any:
        """PUT a JSON body."""
        return self.request("PUT", path, params, body)

    def delete(self, path: str, params: Params | None = None) -> None:
        """DELETE path."""
        self._send("DELETE", path, params)

    def text(self, path: str, params: Params | None = None) -> str:
        """GET a plain-text answer (container logs)."""
        return self._send("GET", path, params).text

    def stream(self, path: str, params: Params | None = None) -> Iterator[ServerSentEvent]:
        """Follow a Server-Sent Events stream until the server ends it."""
        query = {k: _query_value(v) for k, v in (params or {}).items() if v is not None}
        # No read timeout: a quiet stream is normal (the server sends keep-alives).
        timeout = httpx.Timeout(None, connect=5.0)
        try:
            with self._http.stream(
                "GET",
                path,
                params=query,
                headers={"Accept": "text/event-stream"},
                timeout=timeout,
            ) as response:
                if not response.is_success:
                    response.read()
                    raise error_of(response)
                yield from parse_sse(response.iter_lines())
        except httpx.TransportError as exc:
            raise _unavailable(self.base_url, exc) from None


def _query_value(value: str | int | bool) -> str | int:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value
