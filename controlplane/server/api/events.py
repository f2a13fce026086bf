"""/events: what the control plane did (resource, action, result, reason)."""

from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query
from fastapi.responses import StreamingResponse

from controlplane.contract.bounds import MAX_ID, ParamId
from controlplane.server.api.deps import Caller, RuntimeDep, SessionDep
from controlplane.server.models import EventPublic
from controlplane.server.services import events as svc
from controlplane.server.services.runtime import Runtime

router = APIRouter(prefix="/events", tags=["events"])


def _filters(
    resource: str | None = None,
    resource_id: ParamId | None = None,
    host_id: ParamId | None = None,
    action: str | None = None,
    result: str | None = None,
) -> svc.EventFilter:
    """The query filters GET /events and GET /events/stream share."""
    return svc.EventFilter(resource, resource_id, host_id, action, result)


Filters = Annotated[svc.EventFilter, Depends(_filters)]


@router.get("", response_model=list[EventPublic])
async def list_events(
    session: SessionDep,
    _: Caller,
    filters: Filters,
    after: int | None = Query(None, ge=0, le=MAX_ID, description="Only events with a larger id."),
    limit: int = Query(100, ge=1, le=1000),
) -> list[EventPublic]:
    """Events matching every filter, oldest first (the newest `limit`).

    The server keeps at most WEFT_EVENTS_MAX_COUNT events (default 10000) and none
    older than WEFT_EVENTS_MAX_AGE_DAYS (default 7), pruning every
    WEFT_EVENTS_PRUNE_INTERVAL seconds (default 300); 0 lifts either limit.
    """
    rows = await svc.list_events(session, filters, after=after, limit=limit)
    return [EventPublic.model_validate(e) for e in rows]


# How a route that answers with an event stream describes itself in the OpenAPI document.
SSE_ROUTE: dict[str, Any] = {
    "response_class": StreamingResponse,
    "responses": {200: {"content": {"text/event-stream": {}}}},
}


async def sse(items: AsyncIterator[EventPublic | svc.Pause]) -> AsyncIterator[str]:
    """Events as SSE: id, event (its resource) and data; a pause as a comment line."""
    async for item in items:
        if isinstance(item, svc.Pause):
            yield f": {item.value}\n\n"
        else:
            yield f"id: {item.id}\nevent: {item.resource}\ndata: {item.model_dump_json()}\n\n"


def event_stream(rt: Runtime, filters: svc.EventFilter, after: int | None) -> StreamingResponse:
    """The matching events after `after` as SSE: stored ones first, then live ones."""
    return StreamingResponse(
        sse(svc.follow(rt.sessions, rt.bus, filters, after)),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache"},
    )


@router.get("/stream", **SSE_ROUTE)
async def stream_events(
    rt: RuntimeDep,
    _: Caller,
    filters: Filters,
    after: int | None = Query(
        None, ge=0, le=MAX_ID, description="Replay stored events after this id first."
    ),
    last_event_id: Annotated[
        int | None,
        Header(
            ge=0,
            le=MAX_ID,
            description="Sent by EventSource on reconnect; takes precedence over `after`.",
        ),
    ] = None,
) -> StreamingResponse:
    """Server-Sent Events: one event per thing that happens, as it happens.

    Each SSE event has `id:` (the event id), `event:` (its resource) and `data:` (the
    event as JSON). The filters are those of GET /events. With `after` or a
    `Last-Event-ID` header (what EventSource sends when it reconnects), the stored
    events after that id that match are replayed first, oldest first, then live ones
    follow with none lost or repeated in between. Events older than the server's
    retention (WEFT_EVENTS_MAX_COUNT, WEFT_EVENTS_MAX_AGE_DAYS) are no longer replayed.
    A comment line every 15 s keeps idle connections open.
    """
    return event_stream(rt, filters, last_event_id if last_event_id is not None else after)
