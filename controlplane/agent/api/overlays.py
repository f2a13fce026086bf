"""Overlay networks: ensure, get, list, delete (see `controlplane.contract.overlay`)."""

from typing import Annotated

from fastapi import APIRouter, Path, Response

from controlplane.agent.api.deps import Engine, Settings, blocking
from controlplane.agent.overlay import datapath
from controlplane.contract.overlay import OverlayEnsureResult, OverlaySpec, OverlayState
from controlplane.contract.schemas import NAME_PATTERN

router = APIRouter(prefix="/v1/overlays", tags=["overlays"])
OverlayName = Annotated[str, Path(pattern=NAME_PATTERN)]


@router.put("/{name}", response_model=OverlayEnsureResult)
async def ensure_overlay(
    name: OverlayName, spec: OverlaySpec, engine: Engine, settings: Settings
) -> OverlayEnsureResult:
    """The overlay's Docker network on this host's range, its VXLAN device on the network's
    bridge, and one flood entry per peer (exactly those); MTU from the underlay unless given."""
    return await blocking(datapath.ensure_overlay, engine, name, spec, settings.owner)


@router.get("", response_model=list[OverlayState])
async def list_overlays(engine: Engine) -> list[OverlayState]:
    """Every overlay on this host."""
    return await blocking(datapath.list_overlays, engine)


@router.get("/{name}", response_model=OverlayState)
async def get_overlay(name: OverlayName, engine: Engine) -> OverlayState:
    """One overlay: its network, VXLAN device, MTU and peers as the kernel has them."""
    return await blocking(datapath.get_overlay, engine, name)


@router.delete("/{name}", status_code=204)
async def delete_overlay(name: OverlayName, engine: Engine) -> Response:
    """Remove the device and the network; 204 also when absent, 409 while containers use it."""
    await blocking(datapath.delete_overlay, engine, name)
    return Response(status_code=204)
