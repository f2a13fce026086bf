"""/events: what the control plane did (resource, action, result, reason)."""

import asyncio
from collections.abc import AsyncIterator

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from controlplane.api.deps import Caller, Session, State
from controlplane.models import EventPublic
from controlplane.services import events as svc

router = APIRouter(prefix="/events", tags=["events"])

KEEPALIVE_S = 15.0


@router.get("", response_model=list[EventPublic])
async def list_events(
    session: Session,
    _: Caller,
    resource: str | None = None,
    resource_id: int | None = None,
    host_id: int | None = None,
    action: str | None = None,
    result: str | None = None,
    after: int | None = Query(None, description="Only events with a larger id."),
    limit: int = Query(100, ge=1, le=1000),
) -> list[EventPublic]:
    """Events matching every filter, oldest first (the newest `limit`)."""
    rows = await svc.list_events(
        session,
        resource=resource,
        resource_id=resource_id,
        host_id=host_id,
        action=action,
        result=result,
        after=after,
        limit=limit,
    )
    return [EventPublic.model_validate(e) for e in rows]


def _sse(event: EventPublic) -> str:
    return f"id: {event.id}\nevent: {event.resource}\ndata: {event.model_dump_json()}\n\n"


@router.get(
    "/stream",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def stream_events(
    session: Session,
    state: State,
    _: Caller,
    after: int | None = Query(None, description="Replay stored events after this id first."),
) -> StreamingResponse:
    """Server-Sent Events: one `data:` JSON event per thing that happens, as it happens."""
    backlog = []
    if after is not None:
        backlog = await svc.list_events(session, after=after, limit=1000)

    async def body() -> AsyncIterator[str]:
        async with state.bus.subscribe() as queue:
            last = 0
            for row in backlog:
                event = EventPublic.model_validate(row)
                last = event.id
                yield _sse(event)
            yield ": subscribed\n\n"
            while True:
                try:
                    event = await asyncio.wait_for(queue.get(), KEEPALIVE_S)
                except TimeoutError:
                    yield ": keep-alive\n\n"
                    continue
                if event.id > last:
                    yield _sse(event)

    return StreamingResponse(
        body(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"}
    )
