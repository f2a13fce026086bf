"""Events: the list's and the stream's filters, queries, and the SSE follow algorithm."""

import asyncio
import enum
from collections.abc import AsyncIterator
from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from controlplane.server.db import SessionMaker
from controlplane.server.eventlog import EventBus
from controlplane.server.models import Event, EventPublic

KEEPALIVE_S = 15.0
REPLAY_PAGE = 500


class Pause(enum.Enum):
    """What a follower gets besides events: the replay is done, or nothing came for a while."""

    SUBSCRIBED = "subscribed"
    IDLE = "keep-alive"


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


async def _replay(
    sessions: SessionMaker, filters: EventFilter, after: int
) -> AsyncIterator[EventPublic]:
    """Stored events after id `after` that match, oldest first, read in pages."""
    while True:
        async with sessions() as session:
            page = await events_after(session, filters, after, REPLAY_PAGE)
        for row in page:
            yield EventPublic.model_validate(row)
        if len(page) < REPLAY_PAGE:
            return
        after = page[-1].id or after


async def follow(
    sessions: SessionMaker,
    bus: EventBus,
    filters: EventFilter,
    after: int | None,
    idle: float = KEEPALIVE_S,
) -> AsyncIterator[EventPublic | Pause]:
    """Matching events as they happen; with `after`, the stored ones after that id first.

    None is lost or repeated between the replay and the live events. Yields
    Pause.SUBSCRIBED once the replay is done, and Pause.IDLE after `idle` quiet seconds.
    """
    # Subscribed before replaying, so nothing emitted meanwhile is missed. Everything
    # up to `floor` has been handled; `replayed` is what the last replay sent beyond
    # it, which may arrive live as well and is not sent twice. `cursor`: the newest
    # id handled, where a replay after lagging (the bus dropped events) starts.
    async with bus.subscribe() as queue:
        if after is None:
            async with sessions() as session:
                floor = await newest_id(session)
        else:
            floor = after
        cursor, replayed = floor, set[int]()
        if after is not None:
            async for event in _replay(sessions, filters, floor):
                replayed.add(event.id)
                cursor = max(cursor, event.id)
                yield event
        yield Pause.SUBSCRIBED
        while True:
            try:
                async with asyncio.timeout(idle):
                    item = await queue.get()
            except TimeoutError:
                yield Pause.IDLE
                continue
            if item is None:  # LAGGED: this subscriber lost events; re-read them
                floor, replayed = cursor, set()
                async for event in _replay(sessions, filters, floor):
                    replayed.add(event.id)
                    cursor = max(cursor, event.id)
                    yield event
                continue
            cursor = max(cursor, item.id)
            if item.id > floor and item.id not in replayed and filters.matches(item):
                yield item
