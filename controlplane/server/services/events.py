"""Events: stored in the database, fanned out to Server-Sent Events subscribers."""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from controlplane.server.db import SessionMaker
from controlplane.server.models import Event, EventPublic

# Put in a subscriber's queue in place of the events it lost by lagging: the
# subscriber reads them back from the store.
LAGGED = None


@dataclass
class EventBus:
    """In-process fan-out: every subscriber gets every event published after it joined."""

    subscribers: set[asyncio.Queue[EventPublic | None]] = field(default_factory=set)
    queue_size: int = 1000

    def publish(self, event: EventPublic) -> None:
        """Hand the event to every subscriber; a full queue is replaced by LAGGED."""
        for q in list(self.subscribers):
            if q.full():
                while not q.empty():
                    q.get_nowait()
                q.put_nowait(LAGGED)
            if q.full():
                continue  # queue_size 1: the marker covers this event too
            q.put_nowait(event)

    @contextlib.asynccontextmanager
    async def subscribe(self) -> AsyncIterator[asyncio.Queue[EventPublic | None]]:
        """A queue of new events (or LAGGED), for as long as the context lasts."""
        q: asyncio.Queue[EventPublic | None] = asyncio.Queue(self.queue_size)
        self.subscribers.add(q)
        try:
            yield q
        finally:
            self.subscribers.discard(q)


@dataclass
class Recorder:
    """Writes events (own session, committed at once) and publishes them."""

    sessions: SessionMaker
    bus: EventBus

    async def emit(
        self,
        resource: str,
        action: str,
        result: str,
        *,
        resource_id: int | None = None,
        resource_name: str | None = None,
        host_id: int | None = None,
        reason: str | None = None,
    ) -> EventPublic:
        """Store one event and publish it."""
        event = Event(
            resource=resource,
            action=action,
            result=result,
            resource_id=resource_id,
            resource_name=resource_name,
            host_id=host_id,
            reason=reason[:2000] if reason else None,
        )
        async with self.sessions() as session:
            session.add(event)
            await session.commit()
            public = EventPublic.model_validate(event, from_attributes=True)
        self.bus.publish(public)
        return public


@dataclass(frozen=True)
class EventFilter:
    """Events matching every field given (None: any); the list and the stream share it."""

    resource: str | None = None
    resource_id: int | None = None
    host_id: int | None = None
    action: str | None = None
    result: str | None = None

    def given(self) -> dict[str, str | int]:
        """The fields given, by name."""
        return {k: v for k, v in vars(self).items() if v is not None}

    def matches(self, event: EventPublic) -> bool:
        """Whether a (live) event passes the filter."""
        return all(getattr(event, k) == v for k, v in self.given().items())

    def where(self, query: SelectOfScalar[Event]) -> SelectOfScalar[Event]:
        """The same filter on a query of stored events."""
        for key, value in self.given().items():
            query = query.where(getattr(Event, key) == value)
        return query


async def list_events(
    session: AsyncSession, filters: EventFilter, *, after: int | None = None, limit: int = 100
) -> list[Event]:
    """The newest `limit` events matching the filter, oldest first."""
    query = filters.where(select(Event))
    if after is not None:
        query = query.where(col(Event.id) > after)
    query = query.order_by(col(Event.id).desc()).limit(limit)
    rows = list((await session.exec(query)).all())
    rows.reverse()
    return rows


async def newest_id(session: AsyncSession) -> int:
    """The largest event id stored (0 when there is none)."""
    return int((await session.exec(select(func.max(Event.id)))).one() or 0)


async def events_after(
    session: AsyncSession, filters: EventFilter, after: int, limit: int
) -> list[Event]:
    """The oldest `limit` events after id `after` matching the filter (a replay page)."""
    query = filters.where(select(Event)).where(col(Event.id) > after)
    query = query.order_by(col(Event.id)).limit(limit)
    return list((await session.exec(query)).all())
