"""The change feed: answers when the engine's weft containers started, died or went."""

from typing import Annotated

from fastapi import APIRouter, Query, Request

from controlplane.agent.errors import Conflict
from controlplane.agent.events import LinkKeeper
from controlplane.contract.changes import MAX_WAIT_S, Changes

router = APIRouter(prefix="/v1/changes", tags=["changes"])


@router.get("", response_model=Changes)
async def wait_changes(
    request: Request,
    after: Annotated[int, Query(ge=0)] = 0,
    timeout: Annotated[float, Query(ge=0, le=MAX_WAIT_S)] = 0,
) -> Changes:
    """The event count, once it differs from `after` (or after `timeout` seconds)."""
    keeper: LinkKeeper | None = request.app.state.link_keeper
    if keeper is None:
        raise Conflict("this agent does not watch the engine's events (watch_events is off)")
    seq = await keeper.changes.wait(after, timeout)
    return Changes(boot=keeper.changes.boot, seq=seq)
