"""Keeps this process's index in step with MariaDB, the source of truth.

The failure this prevents: answering from data the database no longer holds.
A task polls the data version (load_state, which the loader swaps in with the
tables) every `index_poll_interval` seconds. When it changes, the index the
loader stored for that version (indexstore.py) is read in one consistent
snapshot with it -- or, for a world loaded without one, the rows, and an index
is built from them -- beside the old one, and one assignment swaps it in: a
request sees the old index or the new one, never a mix, and none fails during
the swap. Until the first index is ready (and
whenever a reload fails) requests are answered as before, by MariaDB or from
the last index.
"""

import asyncio
import contextlib
import ctypes
import logging
import time
from typing import Any

from searchapi import fuzzy, indexstore
from searchapi.dbconnect import connect
from searchapi.fields import JSON_ROW
from searchapi.memindex import CityIndex
from searchapi.settings import Settings

log = logging.getLogger("searchapi.snapshot")

VERSION_SQL = "SELECT status, loaded_at, cities FROM load_state WHERE id = 1"
# Worlds loaded before city_rows held item and folded are rendered and joined while read.
STORED_COLUMNS_SQL = (
    "SELECT COUNT(*) = 2 FROM information_schema.columns WHERE table_schema = DATABASE()"
    " AND table_name = 'city_rows' AND column_name IN ('item', 'folded')"
)
OLD_ROWS_SQL = (
    f"SELECT {JSON_ROW}, r.country_code, r.population, r.latitude, r.longitude, s.folded"  # noqa: S608
    " FROM city_rows r JOIN city_search s ON s.`rank` = r.`rank` ORDER BY r.`rank`"
)
STOP_GRACE = 5.0


async def read_index(settings: Settings, known: str | None = None) -> CityIndex | None:
    """A new index when the loaded data's version differs from `known`, else None."""
    conn = await connect(settings.endpoint, autocommit=False)
    try:
        # One snapshot for the version and the stored index (or the rows); its
        # metadata lock makes a concurrent RENAME TABLE wait until the read is done.
        async with conn.cursor() as cur:
            await cur.execute("START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY")
            await cur.execute(VERSION_SQL)
            row = await cur.fetchone()
        if not row or row[0] != "loaded":
            await conn.rollback()
            return None
        version = indexstore.data_version(row[1], row[2])
        if version == known:
            await conn.rollback()
            return None
        stored = await indexstore.read_parts(conn, version)
        if stored is not None:
            await conn.rollback()
            return stored
        async with conn.cursor() as cur:
            await cur.execute(STORED_COLUMNS_SQL)
            has_columns = bool((await cur.fetchone())[0])
        builder = await indexstore.read_rows(conn, rows_sql=None if has_columns else OLD_ROWS_SQL)
        await conn.rollback()
    finally:
        conn.close()
    # Only a process that builds needs this (see there); it stays set.
    keep_large_blocks_mapped()
    # numpy's sorts release the GIL: requests go on being served from the old index.
    return await asyncio.to_thread(builder.build, version)


def release_freed_memory() -> None:
    """Hand the heap's free pages back to the system.

    A build's transients (rows, JSON strings, numpy temporaries) are freed, but
    glibc keeps their pages: measured at 170k cities, 210 MB resident after a
    build, 151 MB after this. Without glibc it does nothing.
    """
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


_M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter number


def keep_large_blocks_mapped() -> None:
    """Serve every allocation from 128 KiB up with its own mapping, returned when freed.

    glibc raises that threshold each time such a block is freed, up to 32 MB,
    after which a build's numpy temporaries come from the heap and leave it
    fragmented: measured at 170k cities, 196-204 MB resident after start-up
    with the moving threshold, 177-179 MB with it fixed. Set only where an index
    is built from the rows: for everything else (an index read from its stored
    parts, and every request's numpy temporaries) each such block mapped and
    unmapped again costs page faults. Without glibc it does nothing.
    """
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").mallopt(_M_MMAP_THRESHOLD, 128 * 1024)


class IndexHolder:
    """The current index (or None) and the task that refreshes it."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self.index: CityIndex | None = None
        self._task: asyncio.Task[None] | None = None
        self._changed = asyncio.Event()
        self.loads = 0
        self.last_build_seconds = 0.0

    async def refresh(self) -> bool:
        """Reload when the data version changed; True when a new index was swapped in."""
        started = time.monotonic()
        known = self.index.version if self.index else None
        fresh = await read_index(self._settings, known)
        if fresh is None:
            return False
        fuzzy.warm(fresh)  # (now, not in the first typo search's time)
        self.index = fresh  # the swap: one reference assignment
        del fresh
        release_freed_memory()
        self.loads += 1
        self.last_build_seconds = time.monotonic() - started
        log.info(
            "index %s: %d cities, %.0f MB, %.1f s",
            self.index.version,
            self.index.size,
            self.index.nbytes / 1e6,
            self.last_build_seconds,
        )
        self._changed.set()
        self._changed = asyncio.Event()
        return True

    async def _run(self) -> None:
        while True:
            try:
                await self.refresh()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # keep serving the last index; retry
                log.warning("index refresh failed (serving the last one): %s", exc)
            await asyncio.sleep(self._settings.index_poll_interval)

    def start(self) -> None:
        """Start polling (in the app's lifespan)."""
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        """Stop polling, waiting at most STOP_GRACE s for the task to end.

        A stop during a read can leave asyncmy closing a half-read streaming
        result; shutdown must not wait on that forever.
        """
        if self._task is not None:
            self._task.cancel()
            await asyncio.wait({self._task}, timeout=STOP_GRACE)

    async def wait_for(self, predicate: Any, timeout: float) -> CityIndex:
        """Wait (at most `timeout` s) until the current index satisfies `predicate`."""
        async with asyncio.timeout(timeout):
            while self.index is None or not predicate(self.index):
                await self._changed.wait()
        return self.index
