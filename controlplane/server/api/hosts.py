"""/hosts: Docker hosts and their agents."""

from fastapi import APIRouter, Response, status

from controlplane.contract.bounds import ParamId
from controlplane.server.api.deps import Caller, RuntimeDep, SessionDep
from controlplane.server.models import HostCreate, HostPublic, HostUpdate
from controlplane.server.services import hosts as svc

router = APIRouter(prefix="/hosts", tags=["hosts"])


@router.get("", response_model=list[HostPublic])
async def list_hosts(session: SessionDep, _: Caller) -> list[HostPublic]:
    """Every host with its status (ready/unreachable, from the heartbeat) and last seen."""
    return [HostPublic.model_validate(h) for h in await svc.list_hosts(session)]


@router.post(
    "",
    response_model=HostPublic,
    status_code=status.HTTP_201_CREATED,
    responses={422: {"description": "The agent rejected the token or did not answer."}},
)
async def register_host(
    data: HostCreate, session: SessionDep, rt: RuntimeDep, _: Caller
) -> HostPublic:
    """Register a host by its agent's URL and token; the agent is called first.

    A wrong token (422, `errors[].loc` = body.agent_token) or an agent that does not
    answer (422, body.agent_url) stores nothing. A reconciler starts for the host.
    """
    return HostPublic.model_validate(await svc.register_host(session, rt, data))


@router.get("/{host_id}", response_model=HostPublic)
async def get_host(host_id: ParamId, session: SessionDep, _: Caller) -> HostPublic:
    """One host."""
    return HostPublic.model_validate(await svc.get_host(session, host_id))


@router.patch("/{host_id}", response_model=HostPublic)
async def update_host(
    host_id: ParamId, data: HostUpdate, session: SessionDep, rt: RuntimeDep, _: Caller
) -> HostPublic:
    """Change a host's labels or its agent token."""
    return HostPublic.model_validate(await svc.update_host(session, rt, host_id, data))


@router.delete(
    "/{host_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={409: {"description": "weft containers still exist there (use force)."}},
)
async def delete_host(
    host_id: ParamId,
    session: SessionDep,
    rt: RuntimeDep,
    _: Caller,
    force: bool = False,
    forget: bool = False,
) -> Response:
    """Forget a host. Refused (409) while it has weft containers, unless `force=true`.

    The agent first removes every container and network this control plane made
    there; if it does not answer while any are recorded, nothing is forgotten (503).
    For a host that is gone for good, `force=true&forget=true` forgets it anyway: what
    weft left there keeps this control plane's owner label, and is removed as strays
    if the host is ever registered again.
    """
    await svc.delete_host(session, rt, host_id, force, forget)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
