"""The WireGuard tunnel: public key, ensure, rotate, delete (see `controlplane.contract.tunnel`)."""

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, ParamSpec, TypeVar

from fastapi import APIRouter, Query, Response
from fastapi import Path as PathParam

from controlplane.agent.api.deps import Settings, blocking
from controlplane.agent.errors import Conflict
from controlplane.agent.overlay import wireguard
from controlplane.agent.settings import AgentSettings
from controlplane.contract.tunnel import IFNAME_PATTERN, TunnelSpec, TunnelState

router = APIRouter(prefix="/v1/tunnel", tags=["overlays"])
Interface = Annotated[str | None, Query(pattern=IFNAME_PATTERN)]
P = ParamSpec("P")
T = TypeVar("T")
# Key changes and interface changes never interleave.
_LOCK = threading.Lock()


def _dir(settings: AgentSettings) -> Path:
    if settings.state_dir is None:
        raise Conflict("this agent keeps no state (set WEFT_AGENT_STATE_DIR): no key to use")
    return settings.state_dir


def _locked(fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    with _LOCK:
        return fn(*args, **kwargs)


@router.get("", response_model=TunnelState)
async def get_tunnel(settings: Settings, interface: Interface = None) -> TunnelState:
    """This host's public key (made on first call), and the interface when one is named."""
    return await blocking(_locked, wireguard.state, interface, _dir(settings))


@router.put("", response_model=TunnelState)
async def ensure_tunnel(spec: TunnelSpec, settings: Settings) -> TunnelState:
    """The interface up with this host's key, the address, port, MTU and exactly these peers."""
    return await blocking(_locked, wireguard.ensure, spec, _dir(settings))


@router.post("/rotate", response_model=TunnelState)
async def rotate_key(settings: Settings, interface: Interface = None) -> TunnelState:
    """A new key pair, used at once by the interface; send peers the new public key."""
    return await blocking(_locked, wireguard.rotate, interface, _dir(settings))


@router.delete("/{interface}", status_code=204)
async def delete_tunnel(
    interface: Annotated[str, PathParam(pattern=IFNAME_PATTERN)], settings: Settings
) -> Response:
    """Remove the interface and its routes; 204 also when absent."""
    await blocking(_locked, wireguard.delete, interface, _dir(settings))
    return Response(status_code=204)
