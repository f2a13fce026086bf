"""/networks: bridge networks, one host each."""

from fastapi import APIRouter, Response, status

from controlplane.contract.bounds import ParamId
from controlplane.server.api.deps import Caller, RuntimeDep, SessionDep
from controlplane.server.models import NetworkCreate, NetworkPublic, NetworkUpdate
from controlplane.server.services import networks as svc

router = APIRouter(prefix="/networks", tags=["networks"])


@router.get("", response_model=list[NetworkPublic])
async def list_networks(
    session: SessionDep, _: Caller, host_id: ParamId | None = None
) -> list[NetworkPublic]:
    """Networks, optionally of one host."""
    return [NetworkPublic.model_validate(n) for n in await svc.list_networks(session, host_id)]


@router.post("", response_model=NetworkPublic, status_code=status.HTTP_201_CREATED)
async def create_network(
    data: NetworkCreate, session: SessionDep, rt: RuntimeDep, _: Caller, wait: bool = False
) -> NetworkPublic:
    """Record a bridge network; the host's reconciler creates it.

    The gateway must lie inside the subnet and not be its network or broadcast
    address (422); a subnet overlapping another network of the host is a 409.
    With `wait=true` the answer comes once it converged or failed (or at the timeout,
    still `pending` with the reason).
    """
    return NetworkPublic.model_validate(await svc.create_network(session, rt, data, wait))


@router.get("/{network_id}", response_model=NetworkPublic)
async def get_network(network_id: ParamId, session: SessionDep, _: Caller) -> NetworkPublic:
    """One network."""
    return NetworkPublic.model_validate(await svc.get_network(session, network_id))


@router.patch("/{network_id}", response_model=NetworkPublic)
async def update_network(
    network_id: ParamId, data: NetworkUpdate, session: SessionDep, rt: RuntimeDep, _: Caller
) -> NetworkPublic:
    """Change a network's labels."""
    return NetworkPublic.model_validate(await svc.update_network(session, rt, network_id, data))


@router.delete("/{network_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_network(
    network_id: ParamId, session: SessionDep, rt: RuntimeDep, _: Caller, wait: bool = False
) -> Response:
    """Forget a network; the reconciler removes it from the host. 409 while in use."""
    await svc.delete_network(session, rt, network_id, wait)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
