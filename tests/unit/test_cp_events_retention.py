"""Event retention (pure cut-offs, the prune on SQLite, the server's pruner) and the SSE
stream's filters and `Last-Event-ID` resume against the app."""

import asyncio
import functools
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st
from sqlmodel import col, select

from controlplane.server.app import create_app
from controlplane.server.db import make_engine, make_sessionmaker, upgrade
from controlplane.server.eventlog import LAGGED, EventBus
from controlplane.server.models import Event, EventPublic
from controlplane.server.services.retention import (
    Cutoffs,
    Retention,
    cutoffs,
    prune_events,
    retention_of,
)
from tests.eventually import eventually
from tests.unit.cp_app import control_plane, fast_settings
from tests.unit.cp_fake_agent import Agents

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def test_cutoffs_and_expiry() -> None:
    week = Retention(max_count=3, max_age=timedelta(days=7))
    assert cutoffs(week, NOW, None, None) is None  # empty table
    assert cutoffs(Retention(None, None), NOW, 9, None) is None  # no limits
    plan = cutoffs(week, NOW, newest_id=10, nth_newest_id=8)
    assert plan == Cutoffs(newest_id=10, below_id=8, before=NOW - timedelta(days=7))
    old, fresh = NOW - timedelta(days=8), NOW - timedelta(hours=1)
    assert plan.expired(7, fresh)  # too many
    assert not plan.expired(8, fresh)
    assert plan.expired(9, old)  # too old
    assert not plan.expired(10, old)  # the newest always stays
    few = cutoffs(Retention(max_count=100, max_age=None), NOW, 10, None)
    assert few is None or not few.expired(1, old)


def test_retention_settings(tmp_path: Path) -> None:
    settings = fast_settings(tmp_path)
    assert retention_of(settings) == Retention(10_000, timedelta(days=7))
    settings.events_max_count, settings.events_max_age_days = 0, 0.5
    assert retention_of(settings) == Retention(None, timedelta(hours=12))


@given(
    ages=st.lists(st.integers(min_value=0, max_value=20), min_size=1, max_size=40),
    max_count=st.one_of(st.none(), st.integers(min_value=1, max_value=30)),
    max_days=st.one_of(st.none(), st.integers(min_value=1, max_value=15)),
)
def test_kept_events_respect_both_limits(
    ages: list[int], max_count: int | None, max_days: int | None
) -> None:
    # Event i (ids from 1) is ages[i] days old; ids grow as time goes on.
    ages = sorted(ages, reverse=True)
    events = [(i + 1, NOW - timedelta(days=a, minutes=1)) for i, a in enumerate(ages)]
    retention = Retention(max_count, timedelta(days=max_days) if max_days else None)
    newest = events[-1][0]
    nth = events[-max_count][0] if max_count and len(events) >= max_count else None
    plan = cutoffs(retention, NOW, newest, nth)
    kept = [(i, at) for i, at in events if plan is None or not plan.expired(i, at)]
    assert kept[-1][0] == newest
    if max_count is not None:
        assert len(kept) <= max_count
    if max_days is not None:
        assert all(at >= NOW - timedelta(days=max_days) for i, at in kept if i != newest)
    # Nothing within both limits is removed.
    recent = [e for e in events[-(max_count or len(events)) :]]
    young = [e for e in recent if max_days is None or e[1] >= NOW - timedelta(days=max_days)]
    assert set(young) <= set(kept)


async def test_prune_on_sqlite_matches_the_rule_and_never_reuses_ids(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'weft.db'}")
    await upgrade(engine)
    sessions = make_sessionmaker(engine)
    try:
        async with sessions() as session:
            for i in range(30):  # 30 events, one per 12 hours, the oldest 14.5 days old
                at = NOW - timedelta(hours=12 * (29 - i))
                session.add(Event(resource="wefttest", action=f"a{i}", result="ok", at=at))
            await session.commit()
            before = [(e.id or 0, e.at) for e in await session.exec(select(Event))]
        retention = Retention(max_count=20, max_age=timedelta(days=7))
        async with sessions() as session:
            removed = await prune_events(session, retention, NOW)
            left = list(await session.exec(select(Event).order_by(col(Event.id))))
        plan = Cutoffs(newest_id=before[-1][0], below_id=before[-20][0], before=NOW - timedelta(7))
        expected = [i for i, at in before if not plan.expired(i, at.replace(tzinfo=UTC))]
        assert [e.id for e in left] == expected
        assert removed == 30 - len(expected) == 15  # 7 days back: 15 events of 12 h
        # Everything is too old: all go but the newest, so ids keep growing.
        async with sessions() as session:
            await prune_events(session, Retention(None, timedelta(minutes=1)), NOW + timedelta(1))
            left = list(await session.exec(select(Event)))
            assert [e.id for e in left] == [before[-1][0]]
            session.add(Event(resource="wefttest", action="after", result="ok"))
            await session.commit()
            newest = (await session.exec(select(Event).where(Event.action == "after"))).one()
            assert (newest.id or 0) > before[-1][0]
            assert await prune_events(session, Retention(100, None), NOW) == 0
    finally:
        await engine.dispose()


def test_the_server_prunes_periodically(tmp_path: Path) -> None:
    settings = fast_settings(tmp_path)
    settings.events_max_count, settings.events_prune_interval = 5, 0.05
    with TestClient(create_app(settings, Agents().transport())) as client:
        token = settings.admin_token_file.read_text().strip()
        client.headers["Authorization"] = f"Bearer {token}"
        recorder = client.app.state.weft.events  # type: ignore[attr-defined]
        for i in range(12):
            client.portal.call(  # type: ignore[union-attr]
                functools.partial(recorder.emit, "wefttest", f"a{i}", "ok")
            )
        eventually(lambda: len(client.get("/events", params={"limit": 1000}).json()) <= 5)
        kept = client.get("/events", params={"limit": 1000}).json()
        assert [e["action"] for e in kept] == [f"a{i}" for i in range(7, 12)]


@pytest.mark.parametrize(
    ("max_age_days", "kept"), [("0", ["old5", "old6", "new7"]), ("7", ["new7"])]
)
def test_max_age_days_zero_keeps_events_of_any_age(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, max_age_days: str, kept: list[str]
) -> None:
    # As an operator sets it: through the environment. The count limit (3) shows the
    # pruner ran: new1..new4 go by count; old5 and old6, 1000 days old but among the
    # newest 3 ids, go only if there is an age limit.
    monkeypatch.setenv("WEFT_EVENTS_MAX_AGE_DAYS", max_age_days)
    monkeypatch.setenv("WEFT_EVENTS_MAX_COUNT", "3")
    monkeypatch.setenv("WEFT_EVENTS_PRUNE_INTERVAL", "0.05")
    settings = fast_settings(tmp_path)
    assert settings.events_max_age_days == float(max_age_days)
    long_ago = datetime.now(UTC) - timedelta(days=1000)

    async def store() -> None:
        # Stored before the server starts: its pruner sees all seven at once.
        engine = make_engine(settings.db_url)
        try:
            await upgrade(engine)
            async with make_sessionmaker(engine)() as session:
                for name in ("new1", "new2", "new3", "new4", "old5", "old6", "new7"):
                    at = long_ago if name.startswith("old") else datetime.now(UTC)
                    session.add(Event(resource="wefttest", action=name, result="ok", at=at))
                    await session.commit()  # one by one: ids follow the names
        finally:
            await engine.dispose()

    asyncio.run(store())
    with TestClient(create_app(settings, Agents().transport())) as client:
        client.headers["Authorization"] = f"Bearer {settings.admin_token_file.read_text().strip()}"

        def actions() -> list[str]:
            return [e["action"] for e in client.get("/events", params={"limit": 1000}).json()]

        eventually(lambda: "new4" not in actions())
        assert actions() == kept


def _data(lines: Iterator[str], until: int, timeout: float = 20) -> list[dict[str, Any]]:
    """The `data:` events read from an SSE stream up to the one with id `until`."""
    deadline = time.monotonic() + timeout
    got: list[dict[str, Any]] = []
    event_id = None
    for line in lines:
        if line.startswith("id: "):
            event_id = int(line[4:])
        elif line.startswith("data: "):
            event = json.loads(line[6:])
            assert event["id"] == event_id
            got.append(event)
            if event["id"] >= until:
                return got
        if time.monotonic() > deadline:  # the server sends a comment line every 15 s
            raise AssertionError(f"no event {until} within {timeout}s; got {got}")
    raise AssertionError("the stream ended")


@pytest.mark.timeout(120)  # an SSE read blocks between lines
def test_sse_filters_and_last_event_id_resume(tmp_path: Path) -> None:
    with control_plane(tmp_path) as cp:
        recorder = cp.client.app.state.weft.events  # type: ignore[attr-defined]

        def emit(resource: str, action: str, result: str = "ok", **kw: Any) -> int:
            call = functools.partial(recorder.emit, resource, action, result, **kw)
            return int(cp.client.portal.call(call).id)  # type: ignore[union-attr]

        a1 = emit("wefttest", "a1", host_id=7)
        emit("wefttestother", "a2", host_id=7)
        a3 = emit("wefttest", "a3", "failed", host_id=7)
        a4 = emit("wefttest", "a4", host_id=8)
        a5 = emit("wefttest", "a5", host_id=7)
        # A reconnect: Last-Event-ID wins over the URL's `after`; the filter applies to
        # the replay (a2: other resource, a4: other host) and to live events.
        params = {"resource": "wefttest", "host_id": 7, "after": 0}
        headers = {"Last-Event-ID": str(a1)}
        with cp.client.stream("GET", "/events/stream", params=params, headers=headers) as r:
            assert r.status_code == 200
            lines = r.iter_lines()
            assert [e["action"] for e in _data(lines, a5)] == ["a3", "a5"]
            emit("wefttestother", "b1", host_id=7)
            emit("wefttest", "b2", host_id=8)
            b3 = emit("wefttest", "b3", resource_id=4, host_id=7)
            live = _data(lines, b3)
        assert [(e["action"], e["resource_id"]) for e in live] == [("b3", 4)]
        # The other filters: action, result, resource_id.
        cases: list[tuple[dict[str, str | int], str, int]] = [
            ({"action": "a4"}, "a4", a4),
            ({"result": "failed"}, "a3", a3),
            ({"resource_id": 4}, "b3", b3),
        ]
        for query, action, last in cases:
            with cp.client.stream("GET", "/events/stream", params={**query, "after": a1 - 1}) as r:
                got = _data(r.iter_lines(), last)
            assert [e["action"] for e in got] == [action]
        bad = cp.client.get("/events/stream", headers={"Last-Event-ID": "x"})
        assert bad.status_code == 422
        assert bad.json()["errors"][0]["loc"] == ["header", "last-event-id"]


@pytest.mark.timeout(120)  # an SSE read blocks between lines
def test_a_lagging_sse_subscriber_reads_lost_events_back_from_the_store(tmp_path: Path) -> None:
    with control_plane(tmp_path) as cp:
        weft = cp.client.app.state.weft  # type: ignore[attr-defined]
        portal = cp.client.portal
        assert portal is not None
        weft.bus.queue_size = 2
        bus, weft.events.bus = weft.bus, EventBus()  # store without publishing, for now
        emit = functools.partial(weft.events.emit, "wefttest", result="ok", host_id=1)
        with cp.client.stream("GET", "/events/stream", params={"host_id": 1}) as r:
            lines = r.iter_lines()
            assert next(lines) == ": subscribed"
            stored = [portal.call(functools.partial(emit, f"e{i}")) for i in range(5)]
            stored.insert(2, portal.call(functools.partial(emit, "other", host_id=2)))

            def burst() -> None:  # all at once: the subscriber cannot keep up
                for event in stored:
                    bus.publish(event)

            portal.call(burst)
            got = _data(lines, stored[-1].id)
        assert [e["action"] for e in got] == ["e0", "e1", "e2", "e3", "e4"]


def test_the_bus_replaces_what_a_full_queue_loses_with_one_marker() -> None:
    bus = EventBus(queue_size=3)
    q: asyncio.Queue[EventPublic | None] = asyncio.Queue(3)
    bus.subscribers.add(q)
    at = datetime(2026, 11, 28, tzinfo=UTC)
    events = [EventPublic(id=i, at=at, resource="r", action="a", result="ok") for i in range(6)]
    for e in events:
        bus.publish(e)
    drained = [q.get_nowait() for _ in range(q.qsize())]
    assert drained == [LAGGED, events[5]]
