"""The control plane's httpx client for host agents: auth, timeouts, retries, errors.

Errors are translated once, here: the agent answered with an error → `AgentError`
(with `status` and the parsed `problem`; `AgentAuthError` for 401/403,
`AgentNotFound` for 404, `AgentConflict` for 409); the agent could not be reached
or did not answer in time → `AgentUnavailable`. Every agent verb is idempotent,
so transport failures are retried (`retries` times, exponential backoff) for
every method, except the streamed image upload which cannot be replayed.

Tests swap the network for `httpx.MockTransport` through `transport=`.
"""

import asyncio
import contextlib
import ssl
from collections.abc import AsyncIterable, AsyncIterator, Callable, Mapping
from types import TracebackType
from typing import Any, Self, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel, TypeAdapter, ValidationError

from controlplane.contract.changes import Changes
from controlplane.contract.dns import DnsRecordSet, DnsState
from controlplane.contract.overlay import OverlayEnsureResult, OverlaySpec, OverlayState
from controlplane.contract.probe import ProbeRequest, ProbeResult, ProbeTarget
from controlplane.contract.schemas import (
    AgentInfo,
    ContainerEnsureResult,
    ContainerSpec,
    ContainerState,
    EngineNetwork,
    ImageInfo,
    ImageLoadResult,
    LinksSpec,
    LinksState,
    LinkTarget,
    Logs,
    NetworkEnsureResult,
    NetworkSpec,
    NetworkState,
    Problem,
    VolumeState,
)
from controlplane.contract.tunnel import TunnelSpec, TunnelState
from controlplane.contract.weave import (
    AttachResult,
    AttachSpec,
    ExposeResult,
    OverlayEndpoint,
    ResetResult,
)

M = TypeVar("M", bound=BaseModel)


class AgentClientError(Exception):
    """Base of every error this client raises."""


class AgentUnavailable(AgentClientError):
    """The agent could not be reached, or did not answer in time."""


class AgentError(AgentClientError):
    """The agent answered with an error; `problem` is its problem+json body."""

    def __init__(self, status: int, problem: Problem) -> None:
        super().__init__(f"agent: {status} {problem.title}: {problem.detail or ''}".rstrip(": "))
        self.status = status
        self.problem = problem


class AgentAuthError(AgentError):
    """The agent rejected the credential (401/403)."""


class AgentNotFound(AgentError):
    """The object does not exist on the host (404)."""


class AgentConflict(AgentError):
    """The host's state conflicts with the request (409), e.g. a network still in use."""


class AgentBadAnswer(AgentError):
    """The agent answered with a body that is not what the agent API returns.

    Whatever answers at an agent URL may not be an agent: its body is never shown.
    """


def _problem(response: httpx.Response) -> Problem:
    try:
        return Problem.model_validate_json(response.content)
    except ValidationError:  # not JSON, or JSON but not a problem
        kind = response.headers.get("content-type", "no content type").split(";")[0]
        return Problem(
            title=response.reason_phrase or "error",
            status=response.status_code,
            detail=f"not an agent's problem+json ({kind})",
        )


def parse(response: httpx.Response, model: type[M]) -> M:
    """The response's JSON body as `model`; `AgentBadAnswer` if it is not one."""
    try:
        return model.model_validate_json(response.content)
    except ValidationError as exc:
        raise _bad_answer(response, model.__name__, exc) from None


def parse_list(response: httpx.Response, model: type[M]) -> list[M]:
    """The response's JSON body as a list of `model`; `AgentBadAnswer` if it is not one."""
    try:
        return TypeAdapter(list[model]).validate_json(response.content)  # type: ignore[valid-type]
    except ValidationError as exc:
        raise _bad_answer(response, f"list of {model.__name__}", exc) from None


def _bad_answer(response: httpx.Response, expected: str, exc: ValidationError) -> AgentBadAnswer:
    detail = f"the answer is not a {expected} ({exc.error_count()} errors)"
    return AgentBadAnswer(
        502, Problem(title="Not an agent answer", status=response.status_code, detail=detail)
    )


def raise_for_problem(response: httpx.Response) -> None:
    """Raise the matching `AgentError` if the response is an error."""
    if response.is_success:
        return
    # Not `Problem.of_response`: whatever answers at an agent URL may not be an agent.
    problem = _problem(response)
    cls: type[AgentError] = AgentError
    if response.status_code in (401, 403):
        cls = AgentAuthError
    elif response.status_code == 404:
        cls = AgentNotFound
    elif response.status_code == 409:
        cls = AgentConflict
    raise cls(response.status_code, problem)


class AgentClient:
    """Async client of one agent. Use as `async with AgentClient(url, token) as agent:`."""

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 30.0,
        connect_timeout: float = 5.0,
        retries: int = 2,
        backoff: float = 0.5,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.retries = retries
        self.backoff = backoff
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
            timeout=httpx.Timeout(timeout, connect=connect_timeout),
            transport=transport,
            verify=ssl_context if ssl_context is not None else True,
        )

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    # --- plumbing -------------------------------------------------------------------

    async def _request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: httpx.QueryParams | None = None,
        content: AsyncIterable[bytes] | bytes | None = None,
        retry: bool = True,
        read_timeout: float | None = None,
    ) -> httpx.Response:
        attempts = 1 + (self.retries if retry else 0)
        extra: dict[str, Any] = {}
        if read_timeout is not None:
            # Long reads, not long connects: an agent that is away still fails fast.
            extra["timeout"] = httpx.Timeout(read_timeout, connect=self._http.timeout.connect)
        for attempt in range(attempts):
            try:
                response = await self._http.request(
                    method, path, json=json, params=params, content=content, **extra
                )
            except httpx.TransportError as exc:  # connect, read, timeouts, protocol
                if attempt + 1 >= attempts:
                    raise AgentUnavailable(f"{self.base_url}: {type(exc).__name__}: {exc}") from exc
                await asyncio.sleep(self.backoff * 2**attempt)
                continue
            raise_for_problem(response)
            return response
        raise AssertionError("unreachable")

    async def _get(self, path: str, model: type[M], **kw: Any) -> M:
        return parse(await self._request("GET", path, **kw), model)

    async def _find(self, path: str, model: type[M]) -> M | None:
        """The object at `path`, or None where the agent answers 404."""
        try:
            return await self._get(path, model)
        except AgentNotFound:
            return None

    async def _list(self, path: str, model: type[M], labels: Mapping[str, str] | None) -> list[M]:
        r = await self._request("GET", path, params=_label_params(labels))
        return parse_list(r, model)

    @staticmethod
    def _seg(name: str) -> str:
        return quote(name, safe="")

    # --- verbs ----------------------------------------------------------------------

    async def healthz(self) -> bool:
        """True when the agent process answers its open liveness probe."""
        await self._request("GET", "/healthz")
        return True

    async def info(self) -> AgentInfo:
        """Host name, Docker version, addresses, capacity; also verifies the token."""
        return await self._get("/v1/info", AgentInfo)

    async def ensure_network(self, name: str, spec: NetworkSpec) -> NetworkEnsureResult:
        """Create the bridge network, or confirm it is as asked (409 if in use and differs)."""
        r = await self._request(
            "PUT", f"/v1/networks/{self._seg(name)}", json=spec.model_dump(mode="json")
        )
        return parse(r, NetworkEnsureResult)

    async def engine_networks(self) -> list[EngineNetwork]:
        """Every network the host's engine has (weft's or not), by name and subnets."""
        return parse_list(await self._request("GET", "/v1/engine/networks"), EngineNetwork)

    async def get_network(self, name: str) -> NetworkState | None:
        """The network, or None if absent."""
        return await self._find(f"/v1/networks/{self._seg(name)}", NetworkState)

    async def list_networks(self, labels: Mapping[str, str] | None = None) -> list[NetworkState]:
        """Networks weft manages on the host, optionally filtered by labels."""
        return await self._list("/v1/networks", NetworkState, labels)

    async def delete_network(self, name: str) -> None:
        """Remove the network; absent is success (409 while containers are attached)."""
        await self._request("DELETE", f"/v1/networks/{self._seg(name)}")

    async def ensure_overlay(self, name: str, spec: OverlaySpec) -> OverlayEnsureResult:
        """Create or fix the overlay's network, VXLAN device and flood entries."""
        r = await self._request(
            "PUT", f"/v1/overlays/{self._seg(name)}", json=spec.model_dump(mode="json")
        )
        return parse(r, OverlayEnsureResult)

    async def list_overlays(self) -> list[OverlayState]:
        """Every overlay on the host, with its device's peers and MTU."""
        return parse_list(await self._request("GET", "/v1/overlays"), OverlayState)

    async def delete_overlay(self, name: str) -> None:
        """Remove the overlay's device and network; absent is success (409 while in use)."""
        await self._request("DELETE", f"/v1/overlays/{self._seg(name)}")

    async def public_key(self) -> str:
        """The host's WireGuard public key (its agent makes the pair on first use)."""
        return (await self._get("/v1/tunnel", TunnelState)).public_key

    async def get_tunnel(self, interface: str) -> TunnelState | None:
        """The host's WireGuard interface as WireGuard reports it; None when absent."""
        return await self._find(f"/v1/tunnel?interface={self._seg(interface)}", TunnelState)

    async def ensure_tunnel(self, spec: TunnelSpec) -> TunnelState:
        """The interface up with the host's key and exactly the spec's peers."""
        r = await self._request("PUT", "/v1/tunnel", json=spec.model_dump(mode="json"))
        return parse(r, TunnelState)

    async def rotate_key(self, interface: str | None) -> TunnelState:
        """A new key pair for the host, used at once by its interface if it has one."""
        params = httpx.QueryParams({"interface": interface} if interface else {})
        return parse(await self._request("POST", "/v1/tunnel/rotate", params=params), TunnelState)

    async def delete_tunnel(self, interface: str) -> None:
        """Remove the interface and its routes; absent is success."""
        await self._request("DELETE", f"/v1/tunnel/{self._seg(interface)}")

    async def wait_changes(self, after: int, timeout: float) -> Changes:
        """The agent's container-event count, once it differs from `after` (long poll)."""
        params = httpx.QueryParams({"after": after, "timeout": timeout})
        r = await self._request(
            "GET", "/v1/changes", params=params, retry=False, read_timeout=timeout + 10
        )
        return parse(r, Changes)

    async def get_dns(self) -> DnsState:
        """The `*.weave.local` record set the host's responder serves."""
        return await self._get("/v1/dns", DnsState)

    async def set_dns(self, records: DnsRecordSet) -> DnsState:
        """Replace the record set the host's responder serves."""
        r = await self._request("PUT", "/v1/dns", json=records.model_dump(mode="json"))
        return parse(r, DnsState)

    async def list_volumes(self, labels: Mapping[str, str] | None = None) -> list[VolumeState]:
        """Named volumes weft manages on the host, optionally filtered by labels."""
        return await self._list("/v1/volumes", VolumeState, labels)

    async def delete_volume(self, name: str) -> None:
        """Remove the volume and its data; absent is success (409 while in use)."""
        await self._request("DELETE", f"/v1/volumes/{self._seg(name)}")

    async def ensure_container(
        self, name: str, spec: ContainerSpec, read_timeout: float | None = None
    ) -> ContainerEnsureResult:
        """Create/start the container, leave it, or recreate it if its spec hash changed.

        A recreate stops the old container first: give `read_timeout` room for its stop.
        """
        r = await self._request(
            "PUT",
            f"/v1/containers/{self._seg(name)}",
            json=spec.model_dump(mode="json"),
            read_timeout=read_timeout,
        )
        return parse(r, ContainerEnsureResult)

    async def list_containers(
        self, labels: Mapping[str, str] | None = None
    ) -> list[ContainerState]:
        """Containers weft manages on the host (label weft.managed=true), filtered by labels."""
        return await self._list("/v1/containers", ContainerState, labels)

    async def get_container(self, name: str) -> ContainerState | None:
        """The managed container's state, or None if absent."""
        return await self._find(f"/v1/containers/{self._seg(name)}", ContainerState)

    async def delete_container(self, name: str, read_timeout: float | None = None) -> None:
        """Stop and remove the container; absent is success (`read_timeout`: room for the stop)."""
        await self._request(
            "DELETE", f"/v1/containers/{self._seg(name)}", read_timeout=read_timeout
        )

    async def restart_container(
        self, name: str, read_timeout: float | None = None
    ) -> ContainerState:
        """Restart (or start) the container; its links are re-applied."""
        r = await self._request(
            "POST", f"/v1/containers/{self._seg(name)}/restart", read_timeout=read_timeout
        )
        return parse(r, ContainerState)

    async def container_logs(self, name: str, tail: int | None = 100) -> str:
        """The container's last `tail` log lines (all if None), stdout and stderr."""
        params = httpx.QueryParams({"tail": tail}) if tail is not None else None
        logs = await self._get(f"/v1/containers/{self._seg(name)}/logs", Logs, params=params)
        return logs.text

    async def set_links(self, name: str, links: list[LinkTarget]) -> LinksState:
        """Replace the container's link set: hosts block, links.env (no restart)."""
        body = LinksSpec(links=links).model_dump(mode="json")
        r = await self._request("PUT", f"/v1/containers/{self._seg(name)}/links", json=body)
        return parse(r, LinksState)

    async def get_links(self, name: str) -> LinksState:
        """The link set stored in the container."""
        return await self._get(f"/v1/containers/{self._seg(name)}/links", LinksState)

    async def load_image(
        self, tarball: AsyncIterable[bytes] | bytes, read_timeout: float = 600.0
    ) -> ImageLoadResult:
        """Upload a `docker save` tarball (streamed when an async iterable); returns tags."""
        r = await self._request(
            "PUT",
            "/v1/images",
            content=tarball,
            retry=isinstance(tarball, bytes),
            read_timeout=read_timeout,
        )
        return parse(r, ImageLoadResult)

    async def get_image(self, ref: str) -> ImageInfo | None:
        """The image if the host has it, else None."""
        return await self._find(f"/v1/images/{self._seg(ref)}", ImageInfo)

    @contextlib.asynccontextmanager
    async def save_image(
        self, ref: str, read_timeout: float = 600.0
    ) -> AsyncIterator[AsyncIterator[bytes]]:
        """The image as a `docker save` tarball, streamed: `async with ... as chunks:`."""
        path = f"/v1/images/{self._seg(ref)}/tarball"
        try:
            async with self._http.stream("GET", path, timeout=read_timeout) as response:
                if response.is_error:
                    await response.aread()
                    raise_for_problem(response)
                yield response.aiter_bytes(1 << 20)
        except httpx.TransportError as exc:
            raise AgentUnavailable(f"{self.base_url}: {type(exc).__name__}: {exc}") from exc

    async def probe(self, targets: list[ProbeTarget]) -> list[ProbeResult]:
        """Have the agent try each target (reachable? route device and MTU)."""
        body = ProbeRequest(targets=targets).model_dump(mode="json")
        r = await self._request("POST", "/v1/probe", json=body)
        return parse_list(r, ProbeResult)

    async def image_exists(self, ref: str) -> bool:
        """Whether the host has the image."""
        return await self.get_image(ref) is not None

    # --- the other weave verbs (attach, detach, expose, hide, ps, reset) ----------------

    async def attach_container(
        self, overlay: str, container: str, spec: AttachSpec
    ) -> AttachResult:
        """Put the running container on the overlay (no restart), at the spec's address."""
        path = f"/v1/overlays/{self._seg(overlay)}/containers/{self._seg(container)}"
        r = await self._request("PUT", path, json=spec.model_dump(mode="json"))
        return parse(r, AttachResult)

    async def detach_container(self, overlay: str, container: str) -> None:
        """Take the container off the overlay (no restart); not on it is success."""
        path = f"/v1/overlays/{self._seg(overlay)}/containers/{self._seg(container)}"
        await self._request("DELETE", path)

    async def expose(self, overlay: str, address: str) -> ExposeResult:
        """Give the host `address` on the overlay (on its bridge)."""
        path = f"/v1/overlays/{self._seg(overlay)}/exposed/{self._seg(address)}"
        return parse(await self._request("PUT", path), ExposeResult)

    async def hide(self, overlay: str, address: str) -> None:
        """Take `address` back from the host; not held is success."""
        await self._request(
            "DELETE", f"/v1/overlays/{self._seg(overlay)}/exposed/{self._seg(address)}"
        )

    async def ps(self, overlay: str | None = None) -> list[OverlayEndpoint]:
        """The endpoints (containers and exposed host addresses) on the host's overlays."""
        params = httpx.QueryParams({"overlay": overlay}) if overlay is not None else None
        return parse_list(await self._request("GET", "/v1/ps", params=params), OverlayEndpoint)

    async def reset(self, read_timeout: float = 300.0) -> ResetResult:
        """Remove everything weft put on the host; what was removed (stops may take a while)."""
        r = await self._request("POST", "/v1/reset", read_timeout=read_timeout)
        return parse(r, ResetResult)


# How the control plane gets a client of one agent: (agent URL, token) -> client.
AgentFactory = Callable[[str, str], AgentClient]


def _label_params(labels: Mapping[str, str] | None) -> httpx.QueryParams | None:
    if not labels:
        return None
    return httpx.QueryParams([("label", f"{k}={v}") for k, v in labels.items()])


async def file_chunks(path: str, chunk_size: int = 1 << 20) -> AsyncIterator[bytes]:
    """Read a file in chunks for `load_image`, without blocking the event loop."""
    import anyio

    async with await anyio.open_file(path, "rb") as f:
        while chunk := await f.read(chunk_size):
            yield chunk
