"""/events: what the control plane did (resource, action, result, reason)."""

import asyncio
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query
from fastapi.responses import StreamingResponse

from controlplane.server.api.deps import AppState, Caller, Session, State
from controlplane.server.models import EventPublic
from controlplane.server.services import events as svc

router = APIRouter(prefix="/events", tags=["events"])

KEEPALIVE_S = 15.0
REPLAY_PAGE = 500


def _filters(
    resource: str | None = None,
    resource_id: int | None = None,
    host_id: int | None = None,
    action: str | None = None,
    result: str | None = None,
) -> svc.EventFilter:
    """The query filters GET /events and GET /events/stream share."""
    return svc.EventFilter(resource, resource_id, host_id, action, result)


Filters = Annotated[svc.EventFilter, Depends(_filters)]


@router.get("", response_model=list[EventPublic])
async def list_events(
    session: Session,
    _: Caller,
    filters: Filters,
    after: int | None = Query(None, description="Only events with a larger id."),
    limit: int = Query(100, ge=1, le=1000),
) -> list[EventPublic]:
    """Events matching every filter, oldest first (the newest `limit`).

    The server keeps at most WEFT_EVENTS_MAX_COUNT events (default 10000) and none
    older than WEFT_EVENTS_MAX_AGE_DAYS (default 7), pruning every
    WEFT_EVENTS_PRUNE_INTERVAL seconds (default 300); 0 lifts either limit.
    """
    rows = await svc.list_events(session, filters, after=after, limit=limit)
    return [EventPublic.model_validate(e) for e in rows]


def _sse(event: EventPublic) -> str:
    return f"id: {event.id}\nevent: {event.resource}\ndata: {event.model_dump_json()}\n\n"


async def _replay(
    state: AppState, filters: svc.EventFilter, after: int
) -> AsyncIterator[EventPublic]:
    """Stored events after id `after` that match, oldest first, read in pages."""
    while True:
        async with state.sessions() as session:
            page = await svc.events_after(session, filters, after, REPLAY_PAGE)
        for row in page:
            yield EventPublic.model_validate(row)
        if len(page) < REPLAY_PAGE:
            return
        after = page[-1].id or after


async def _stream(
    state: AppState, filters: svc.EventFilter, after: int | None
) -> AsyncIterator[str]:
    # Subscribed before replaying, so nothing emitted meanwhile is missed. Everything
    # up to `floor` has been handled; `replayed` is what the last replay sent beyond
    # it, which may arrive live as well and is not sent twice. `cursor`: the newest
    # id handled, where a replay after lagging (the bus dropped events) starts.
    async with state.bus.subscribe() as queue:
        if after is None:
            async with state.sessions() as session:
                floor = await svc.newest_id(session)
        else:
            floor = after
        cursor, replayed = floor, set[int]()
        if after is not None:
            async for event in _replay(state, filters, floor):
                replayed.add(event.id)
                cursor = max(cursor, event.id)
                yield _sse(event)
        yield ": subscribed\n\n"
        while True:
            try:
                item = await asyncio.wait_for(queue.get(), KEEPALIVE_S)
            except TimeoutError:
                yield ": keep-alive\n\n"
                continue
            if item is None:  # svc.LAGGED: this subscriber lost events; re-read them
                floor, replayed = cursor, set()
                async for event in _replay(state, filters, floor):
                    replayed.add(event.id)
                    cursor = max(cursor, event.id)
                    yield _sse(event)
                continue
            cursor = max(cursor, item.id)
            if item.id > floor and item.id not in replayed and filters.matches(item):
                yield _sse(item)


@router.get(
    "/stream",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def stream_events(
    state: State,
    _: Caller,
    filters: Filters,
    after: int | None = Query(None, description="Replay stored events after this id first."),
    last_event_id: Annotated[
        int | None,
        Header(description="Sent by EventSource on reconnect; takes precedence over `after`."),
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
    start = last_event_id if last_event_id is not None else after
    return StreamingResponse(
        _stream(state, filters, start),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache"},
    )
