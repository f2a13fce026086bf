"""Reloading while readers query: no query fails, none sees an empty or partial world."""

import asyncio
from pathlib import Path

import pytest

from searchapi import index
from searchapi.loader import ConnParams, Source, load_world
from tests.geonames_samples import write_real_pair
from tests.harness import MariaDB
from tests.world_fixture import conn_params, connect

pytestmark = pytest.mark.integration

SMALL, LARGE = 2000, 3000  # two real data sets, told apart by their counts
READERS = 3


async def _reader(
    params: ConnParams,
    stop: asyncio.Event,
    seen: list[tuple[int, ...]],
    changed: asyncio.Condition,
) -> None:
    """Query cities, the join with countries and the index, until told to stop."""
    # autocommit: every statement reads a fresh snapshot, as the search API does.
    conn = await connect(params, autocommit=True)
    probes = ", ".join(f"EXISTS (SELECT 1 FROM {t})" for t in index.INDEX_TABLES)  # noqa: S608
    sql = (
        "SELECT (SELECT COUNT(*) FROM cities),"  # noqa: S608 -- table names are constants
        " (SELECT COUNT(*) FROM cities ci JOIN countries co ON co.iso = ci.country_code),"
        f" (SELECT COUNT(*) FROM countries), {probes or '1'}"
    )
    try:
        async with conn.cursor() as cur:
            while not stop.is_set():
                await cur.execute(sql)
                row = await cur.fetchone()
                seen.append(tuple(int(v) for v in row))
                async with changed:
                    changed.notify_all()
    finally:
        await conn.ensure_closed()
        async with changed:
            changed.notify_all()  # a reader that failed stops the waiting at once


async def test_reloading_under_continuous_queries_never_shows_partial_data(
    mariadb: MariaDB, database: str, tmp_path: Path
) -> None:
    params = conn_params(mariadb, database)
    small = Source(*write_real_pair(tmp_path / "small", SMALL))
    large = Source(*write_real_pair(tmp_path / "large", LARGE))
    await load_world(params, small)

    stop = asyncio.Event()
    seen: list[list[tuple[int, ...]]] = [[] for _ in range(READERS)]
    changed = asyncio.Condition()
    readers = [asyncio.create_task(_reader(params, stop, s, changed)) for s in seen]

    async def all_readers_see(count: int) -> None:
        """Wait until every reader has queried the data set of `count` cities."""
        async with asyncio.timeout(60), changed:
            await changed.wait_for(
                lambda: any(t.done() for t in readers) or all(r and r[-1][0] == count for r in seen)
            )

    try:
        await all_readers_see(SMALL)
        assert (await load_world(params, large)).cities == LARGE
        await all_readers_see(LARGE)
        assert (await load_world(params, small)).cities == SMALL
        await all_readers_see(SMALL)
    finally:
        stop.set()
        await asyncio.gather(*readers)  # a failed query fails the test here

    for rows in seen:
        assert len(rows) > 20, "the readers barely ran"
        for cities, joined, countries, *probes in rows:
            assert cities in (SMALL, LARGE)  # never empty, never a partial load
            assert joined == cities and countries == 252
            assert all(probes), "an index table was empty"
        counts = [r[0] for r in rows]
        # Each reader saw the first data, then the second, then the first again.
        changes = [c for i, c in enumerate(counts) if i == 0 or c != counts[i - 1]]
        assert changes == [SMALL, LARGE, SMALL]
