"""/links: inside `from`, `alias` resolves to `to`, with Docker-compatible env vars.

How links stay current (unlike Docker's `--link`): for every container `from`, the
reconciler of its host computes the link set, `alias -> (to's name, to's current
address, to's exposed ports)`, from the addresses the agents last reported. When
it differs from what was last pushed (`to` restarted, was recreated, moved, or the
link is new), it sends the whole set to the agent (`PUT /v1/containers/{from}/links`)
without recreating `from`. The agent rewrites a weft block in `from`'s
`/etc/hosts` (`address alias`) and writes `/etc/weft/links.env` plus
`/etc/profile.d/weft-links.sh` with `ALIAS_NAME`, `ALIAS_PORT`,
`ALIAS_PORT_<port>_<PROTO>` and its `_ADDR`, `_PORT`, `_PROTO` for each exposed
port of `to`; the same variables are in `from`'s process environment from its
creation (a running process's environment cannot change, so read links.env, run
through `/etc/weft/with-links CMD`, or resolve the alias). A target without an
address yet (not running) is left out until it has one, so links may point at a
container that does not run yet, and may be circular.

`to`'s address by its network mode: on a bridge network, its address on a network
`from` shares (else any of its addresses); in `container:X` mode, X's address (it
shares X's network stack, and follows X when X moves); in `host` mode on `from`'s
host, the gateway of `from`'s network (the host's address on that bridge, where a
host-mode process listens), or 127.0.0.1 when `from` is in host mode too; in `host`
mode on another host, that host's first underlay address (its agent's /v1/info);
in `none` mode, no address. `from` in `container:Y` mode sees through Y's networks.
"""

from fastapi import APIRouter, Response, status

from controlplane.contract.bounds import ParamId
from controlplane.server.api.deps import Caller, RuntimeDep, SessionDep
from controlplane.server.models import LinkCreate, LinkPublic
from controlplane.server.services import links as svc

router = APIRouter(prefix="/links", tags=["links"])


@router.get("", response_model=list[LinkPublic], response_model_by_alias=True)
async def list_links(
    session: SessionDep, _: Caller, container_id: ParamId | None = None
) -> list[LinkPublic]:
    """Links, optionally those from or to one container, with `to`'s current address."""
    return await svc.list_links(session, container_id)


@router.post(
    "",
    response_model=LinkPublic,
    response_model_by_alias=True,
    status_code=status.HTTP_201_CREATED,
    description=__doc__,
)
async def create_link(
    data: LinkCreate, session: SessionDep, rt: RuntimeDep, _: Caller, wait: bool = False
) -> LinkPublic:
    """Link `from` to `to` as `alias` (either end may not run yet; cycles are fine)."""
    return await svc.create_link(session, rt, data, wait)


@router.get("/{link_id}", response_model=LinkPublic, response_model_by_alias=True)
async def get_link(link_id: ParamId, session: SessionDep, _: Caller) -> LinkPublic:
    """One link, with `to`'s current address and the env vars `from` sees."""
    return await svc.get_link(session, link_id)


@router.delete("/{link_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_link(link_id: ParamId, session: SessionDep, rt: RuntimeDep, _: Caller) -> Response:
    """Forget a link; `from`'s hosts entry and variables for it go at the next push."""
    await svc.delete_link(session, rt, link_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
