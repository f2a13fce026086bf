"""The other weave verbs: attach/detach (`/containers/{id}/overlays/{network_id}`),
expose/hide (`/hosts/{id}/exposed/{network_id}`), `/ps` and `/hosts/{id}/reset`."""

from fastapi import APIRouter, Response, status

from controlplane.contract.bounds import ParamId
from controlplane.server.api.deps import Caller, RuntimeDep, SessionDep
from controlplane.server.models import ContainerPublic
from controlplane.server.models.weave import (
    AttachRequest,
    ExposedPublic,
    HostEndpoints,
    HostReset,
)
from controlplane.server.services import weave as svc

router = APIRouter(tags=["weave"])


@router.put("/containers/{container_id}/overlays/{network_id}", response_model=ContainerPublic)
async def attach(
    container_id: ParamId,
    network_id: ParamId,
    session: SessionDep,
    rt: RuntimeDep,
    _: Caller,
    data: AttachRequest | None = None,
    wait: bool = False,
) -> ContainerPublic:
    """`weave attach`: put the container on the overlay with these aliases, without
    restarting it (same container id and start time); its `*.weave.local` names follow.

    422 for a bridge network, 409 when the overlay does not span the container's host
    or the container shares another's network stack (host, none, container:X).
    """
    row = await svc.attach(session, rt, container_id, network_id, data or AttachRequest(), wait)
    return ContainerPublic.of(row)


@router.delete("/containers/{container_id}/overlays/{network_id}", response_model=ContainerPublic)
async def detach(
    container_id: ParamId,
    network_id: ParamId,
    session: SessionDep,
    rt: RuntimeDep,
    _: Caller,
    wait: bool = False,
) -> ContainerPublic:
    """`weave detach`: take the container off the overlay without restarting it; its
    names there stop resolving. Not on it: unchanged."""
    row = await svc.detach(session, rt, container_id, network_id, wait)
    return ContainerPublic.of(row)


@router.get("/exposed", response_model=list[ExposedPublic])
async def list_exposed(session: SessionDep, _: Caller) -> list[ExposedPublic]:
    """Every host's own addresses on overlays."""
    return await svc.list_exposed(session)


@router.put("/hosts/{host_id}/exposed/{network_id}", response_model=ExposedPublic)
async def expose(
    host_id: ParamId,
    network_id: ParamId,
    session: SessionDep,
    rt: RuntimeDep,
    _: Caller,
    wait: bool = False,
) -> ExposedPublic:
    """`weave expose`: give the host an address of its own on the overlay (from its range
    of the central IPAM, never a container's); the same one again on a repeat."""
    return await svc.expose(session, rt, host_id, network_id, wait)


@router.delete("/hosts/{host_id}/exposed/{network_id}", status_code=status.HTTP_204_NO_CONTENT)
async def hide(
    host_id: ParamId,
    network_id: ParamId,
    session: SessionDep,
    rt: RuntimeDep,
    _: Caller,
    wait: bool = False,
) -> Response:
    """`weave hide`: take the host's address on the overlay back to the pool."""
    await svc.hide(session, rt, host_id, network_id, wait)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/ps", response_model=list[HostEndpoints])
async def ps(
    session: SessionDep, rt: RuntimeDep, _: Caller, host_id: ParamId | None = None
) -> list[HostEndpoints]:
    """`weave ps`: every endpoint on overlays (containers and exposed host addresses) with
    address and MAC, by host, as each agent reports it now (an unreachable one says why)."""
    return await svc.ps(session, rt, host_id)


@router.post("/hosts/{host_id}/reset", response_model=HostReset)
async def reset(host_id: ParamId, session: SessionDep, rt: RuntimeDep, _: Caller) -> HostReset:
    """`weave reset`: the agent removes everything weft put on the host (containers,
    networks, overlay devices, tunnels, DNS records, exposed addresses), and the host
    leaves: its containers, networks, exposed addresses and peerings are forgotten, the
    overlays it named pass to another host of the mesh. 409 while it runs a stack's
    containers; 503 (nothing changed) when its agent does not answer."""
    return await svc.reset_host(session, rt, host_id)
