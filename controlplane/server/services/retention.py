"""Event retention: keep at most N events and none older than D, pruned periodically.

The newest event is always kept: on SQLite an INTEGER PRIMARY KEY without
AUTOINCREMENT reuses ids once the largest row is gone, and a reused id would make
SSE clients resuming with `Last-Event-ID` skip new events as "already seen".
"""

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_
from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from controlplane.server.db import SessionMaker
from controlplane.server.models import Event
from controlplane.server.models.common import utcnow
from controlplane.server.settings import Settings

log = logging.getLogger("weft.events")


@dataclass(frozen=True)
class Retention:
    """How many events to keep (at least 1) and for how long (None: no limit of that kind)."""

    max_count: int | None = 10_000
    max_age: timedelta | None = timedelta(days=7)


def retention_of(settings: Settings) -> Retention:
    """The retention the settings ask for (0 in either setting: no limit of that kind)."""
    age = settings.events_max_age_days
    return Retention(
        max_count=settings.events_max_count or None,
        max_age=timedelta(days=age) if age else None,
    )


@dataclass(frozen=True)
class Cutoffs:
    """What a prune removes: ids below `below_id` or events before `before`, never `newest_id`."""

    newest_id: int
    below_id: int | None
    before: datetime | None

    def expired(self, event_id: int, at: datetime) -> bool:
        """Whether this prune removes the event (the rule the SQL delete applies)."""
        if event_id >= self.newest_id:
            return False
        too_many = self.below_id is not None and event_id < self.below_id
        too_old = self.before is not None and at < self.before
        return too_many or too_old


def cutoffs(
    retention: Retention, now: datetime, newest_id: int | None, nth_newest_id: int | None
) -> Cutoffs | None:
    """The prune for a table whose newest id and `max_count`-th newest id are given.

    None when nothing can expire (an empty table, or no limits). `nth_newest_id` is
    None when there are no more than `max_count` events.
    """
    if newest_id is None:
        return None
    below = nth_newest_id if retention.max_count is not None else None
    before = now - retention.max_age if retention.max_age is not None else None
    if below is None and before is None:
        return None
    return Cutoffs(newest_id=newest_id, below_id=below, before=before)


async def prune_events(session: AsyncSession, retention: Retention, now: datetime) -> int:
    """Delete the events past retention; the number deleted."""
    newest = (await session.exec(select(func.max(Event.id)))).one()
    nth = None
    if retention.max_count is not None and newest is not None:
        # The max_count-th newest id: ids are unique and increasing, the primary key
        # index answers this without a scan.
        query = select(Event.id).order_by(col(Event.id).desc()).offset(retention.max_count - 1)
        nth = (await session.exec(query.limit(1))).first()
    plan = cutoffs(retention, now, newest, nth)
    if plan is None:
        return 0
    expired = []
    if plan.below_id is not None:
        expired.append(col(Event.id) < plan.below_id)
    if plan.before is not None:
        expired.append(col(Event.at) < plan.before)
    result = await session.exec(
        delete(Event).where(and_(col(Event.id) < plan.newest_id, or_(*expired)))
    )
    await session.commit()
    return int(result.rowcount or 0)


async def prune_forever(sessions: SessionMaker, retention: Retention, interval: float) -> None:
    """Prune at start and then every `interval` seconds until cancelled."""
    while True:
        try:
            async with sessions() as session:
                removed = await prune_events(session, retention, utcnow())
            if removed:
                log.info("pruned %d events past retention", removed)
        except asyncio.CancelledError:
            raise
        except Exception:  # a failed prune is retried next time; it must not end the loop
            log.exception("pruning events failed")
        await asyncio.sleep(interval)
