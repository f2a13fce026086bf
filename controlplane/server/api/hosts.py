"""/hosts: Docker hosts and their agents."""

from fastapi import APIRouter, Response, status

from controlplane.server.api.deps import Caller, Session, State
from controlplane.server.models import HostCreate, HostPublic, HostUpdate
from controlplane.server.services import hosts as svc

router = APIRouter(prefix="/hosts", tags=["hosts"])


@router.get("", response_model=list[HostPublic])
async def list_hosts(session: Session, _: Caller) -> list[HostPublic]:
    """Every host with its status (ready/unreachable, from the heartbeat) and last seen."""
    return [HostPublic.model_validate(h) for h in await svc.list_hosts(session)]


@router.post(
    "",
    response_model=HostPublic,
    status_code=status.HTTP_201_CREATED,
    responses={422: {"description": "The agent rejected the token or did not answer."}},
)
async def register_host(data: HostCreate, session: Session, state: State, _: Caller) -> HostPublic:
    """Register a host by its agent's URL and token; the agent is called first.

    A wrong token (422, `errors[].loc` = body.agent_token) or an agent that does not
    answer (422, body.agent_url) stores nothing. A reconciler starts for the host.
    """
    host = await svc.register_host(session, data, state.agents)
    state.reconcilers.kick(host.id or 0)
    await state.events.emit(
        "host", "register", "ok", resource_id=host.id, resource_name=host.name, host_id=host.id
    )
    return HostPublic.model_validate(host)


@router.get("/{host_id}", response_model=HostPublic)
async def get_host(host_id: int, session: Session, _: Caller) -> HostPublic:
    """One host."""
    return HostPublic.model_validate(await svc.get_host(session, host_id))


@router.patch("/{host_id}", response_model=HostPublic)
async def update_host(
    host_id: int, data: HostUpdate, session: Session, state: State, _: Caller
) -> HostPublic:
    """Change a host's labels or its agent token."""
    host = await svc.update_host(session, host_id, data, state.agents)
    state.reconcilers.kick(host_id)
    return HostPublic.model_validate(host)


@router.delete(
    "/{host_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={409: {"description": "weft containers still exist there (use force)."}},
)
async def delete_host(
    host_id: int,
    session: Session,
    state: State,
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
    # The runner stops first: a pass in flight must not recreate what is being removed.
    await state.reconcilers.stop(host_id)
    try:
        host = await svc.delete_host(
            session, host_id, force, state.agents, state.owner, forget=forget
        )
    except Exception:
        state.reconcilers.ensure(host_id)
        raise
    await state.events.emit(
        "host",
        "remove",
        "ok",
        resource_id=host_id,
        resource_name=host.name,
        host_id=host_id,
        reason="forgotten" if forget else "forced" if force else None,
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)
