"""The event log: events stored as they happen, and fanned out to live followers.

It sits below services and reconcilers alike (both record events), so neither
has to import the other to do it.
"""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from sqlalchemy import update
from sqlmodel import col

from controlplane.server.db import SessionMaker
from controlplane.server.models import Event, EventPublic
from controlplane.server.models.common import utcnow

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

    async def repeat(self, event_id: int) -> bool:
        """Count one more occurrence of a stored event; False if it is gone (pruned)."""
        stmt = (
            update(Event)
            .where(col(Event.id) == event_id)
            .values(count=col(Event.count) + 1, last_at=utcnow())
        )
        async with self.sessions() as session:
            result = await session.exec(stmt)
            await session.commit()
        return bool(result.rowcount)
