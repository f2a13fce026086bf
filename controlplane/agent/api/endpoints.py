"""The overlays' endpoints: attach/detach containers, expose/hide the host, and `ps`."""

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from controlplane.agent.api.deps import Engine, blocking
from controlplane.agent.api.overlays import OverlayName
from controlplane.agent.overlay import attach, expose
from controlplane.agent.overlay.ps import ps
from controlplane.contract.schemas import NAME_PATTERN
from controlplane.contract.weave import AttachResult, AttachSpec, ExposeResult, OverlayEndpoint

router = APIRouter(prefix="/v1/overlays", tags=["overlays"])
ps_router = APIRouter(tags=["overlays"])
ContainerName = Annotated[str, Path(pattern=NAME_PATTERN)]
Address = Annotated[str, Path(pattern=r"^[0-9.]{7,15}$", description="An IPv4 address.")]


@router.put("/{name}/containers/{container}", response_model=AttachResult)
async def attach_container(
    name: OverlayName, container: ContainerName, spec: AttachSpec, engine: Engine
) -> AttachResult:
    """Put the running weft container on the overlay (Docker network connect: no restart,
    the same process), at the given address with these aliases; reconnected if either
    differs. 409 for a container not made by weft or in host/none/container: mode; 422 for
    an address outside the subnet; 404 for an overlay that is not there."""
    return await blocking(attach.attach, engine, name, container, spec)


@router.delete("/{name}/containers/{container}", status_code=204)
async def detach_container(name: OverlayName, container: ContainerName, engine: Engine) -> Response:
    """Take the container off the overlay without restarting it; 204 also when it is not on it."""
    await blocking(attach.detach, engine, name, container)
    return Response(status_code=204)


@router.put("/{name}/exposed/{address}", response_model=ExposeResult)
async def expose_host(name: OverlayName, address: Address, engine: Engine) -> ExposeResult:
    """Give this host `address` on the overlay (on its bridge, with the subnet's prefix), so
    the host reaches the overlay's containers on every host and they reach it. 422 for an
    address outside the subnet or the gateway's; 409 when a container holds it."""
    return await blocking(expose.expose, engine, name, address)


@router.delete("/{name}/exposed/{address}", status_code=204)
async def hide_host(name: OverlayName, address: Address, engine: Engine) -> Response:
    """Take the address back from the host; 204 also when it does not hold it."""
    await blocking(expose.hide, engine, name, address)
    return Response(status_code=204)


@ps_router.get("/v1/ps", response_model=list[OverlayEndpoint])
async def list_endpoints(
    engine: Engine,
    overlay: Annotated[
        str | None, Query(pattern=NAME_PATTERN, description="Only this overlay's endpoints.")
    ] = None,
) -> list[OverlayEndpoint]:
    """Every endpoint on this host's overlays: containers (weft's or not) and the host's
    exposed addresses, with address and MAC (`weave ps`)."""
    return await blocking(ps, engine, overlay)
