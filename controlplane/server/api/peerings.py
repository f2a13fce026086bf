"""/peerings (`weave connect` / `weave forget`) and /hosts/{id}/peers (`weave status peers`)."""

from fastapi import APIRouter, Response, status

from controlplane.server.api.deps import Caller, RuntimeDep, SessionDep
from controlplane.server.models import HostPeers, PeeringCreate, PeeringPublic
from controlplane.server.services import peerings as svc

router = APIRouter(tags=["peerings"])


@router.get("/peerings", response_model=list[PeeringPublic])
async def list_peerings(
    session: SessionDep, rt: RuntimeDep, _: Caller, check: bool = False
) -> list[PeeringPublic]:
    """Peerings with their last check: reachable, datapath, encrypted, MTU, when (`check=true`
    measures them again now, from both ends)."""
    return await svc.list_peerings(session, rt, check)


@router.post("/peerings", response_model=PeeringPublic, status_code=status.HTTP_201_CREATED)
async def create_peering(
    data: PeeringCreate, session: SessionDep, rt: RuntimeDep, _: Caller
) -> PeeringPublic:
    """Join hosts `a` and `b`; their meshes become one. Measured at once from both ends."""
    return await svc.create_peering(session, rt, data)


@router.get("/peerings/{peering_id}", response_model=PeeringPublic)
async def get_peering(peering_id: int, session: SessionDep, _: Caller) -> PeeringPublic:
    """One peering and its last check."""
    return await svc.get_peering(session, peering_id)


@router.delete("/peerings/{peering_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_peering(
    peering_id: int, session: SessionDep, rt: RuntimeDep, _: Caller
) -> Response:
    """Forget the peering; hosts still joined through others stay in one mesh."""
    await svc.delete_peering(session, rt, peering_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/hosts/{host_id}/peers", response_model=HostPeers)
async def host_peers(host_id: int, session: SessionDep, rt: RuntimeDep, _: Caller) -> HostPeers:
    """The host's mesh and, for every other member, what the host measures of it now."""
    return await svc.host_peers(session, rt, host_id)
