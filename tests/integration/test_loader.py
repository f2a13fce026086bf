"""The loader against the real MariaDB: GeoNames files in, atomic swaps, bad input refused."""

import asyncio
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from searchapi import index
from searchapi.loader import ConnParams, LoadError, Source, load, load_world
from tests.geonames_samples import CITIES, city_line, write_pair
from tests.harness import MariaDB
from tests.world_fixture import conn_params, connect

pytestmark = pytest.mark.integration


@pytest.fixture
def params(mariadb: MariaDB, database: str) -> ConnParams:
    """The test account on a fresh database."""
    return conn_params(mariadb, database)


async def _rows(params: ConnParams, sql: str) -> list[tuple[Any, ...]]:
    conn = await connect(params, autocommit=True)
    try:
        async with conn.cursor() as cur:
            await cur.execute(sql)
            return list(await cur.fetchall())
    finally:
        await conn.ensure_closed()


async def _tables(params: ConnParams) -> set[str]:
    return {r[0] for r in await _rows(params, "SHOW TABLES")}


async def test_a_geonames_file_pair_loads(params: ConnParams, tmp_path: Path) -> None:
    countries, cities = write_pair(tmp_path)
    report = await load_world(params, Source(countries, cities))
    assert (report.countries, report.cities) == (6, len(CITIES))
    rows = await _rows(
        params,
        "SELECT ci.name, co.name, ci.latitude, ci.population FROM cities ci"
        " JOIN countries co ON co.iso = ci.country_code"
        " WHERE ci.name LIKE '%Darwin%' ORDER BY 2, 1",
    )
    assert [(r[0], r[1], str(r[2]), r[3]) for r in rows] == [
        ("Darwin", "Argentina", "-39.20318", 3142),
        ("Darwin", "Australia", "-12.46113", 129062),
        ("Mount Darwin", "Zimbabwe", "-16.77251", 9930),
    ]
    # Accents are stored as given; the collation does not fold them away.
    assert await _rows(params, "SELECT COUNT(*) FROM cities WHERE name = 'Sao Paulo'") == [(0,)]
    assert await _rows(params, "SELECT asciiname FROM cities WHERE name = 'São Paulo'") == [
        ("Sao Paulo",)
    ]
    state = await _rows(params, "SELECT status, countries, cities, source FROM load_state")
    assert state == [("loaded", 6, len(CITIES), f"{countries} + {cities}")]
    # The search index was built and swapped in with the data; no staging table is left.
    assert await _tables(params) == {"countries", "cities", "load_state", *index.INDEX_TABLES}


async def test_loading_again_is_idempotent(params: ConnParams, tmp_path: Path) -> None:
    countries, cities = write_pair(tmp_path)
    await load_world(params, Source(countries, cities))
    first = await _rows(params, "SELECT * FROM cities ORDER BY geonameid")
    again = await load_world(params, Source(countries, cities))
    assert again.cities == len(CITIES) and not again.skipped
    assert await _rows(params, "SELECT * FROM cities ORDER BY geonameid") == first
    skipped = await load_world(params, Source(countries, cities), if_empty=True)
    assert skipped.skipped and skipped.cities == len(CITIES)


async def test_a_defective_pair_names_the_lines_and_the_old_data_keeps_serving(
    params: ConnParams, tmp_path: Path
) -> None:
    countries, cities = write_pair(tmp_path / "good")
    await load_world(params, Source(countries, cities))
    before = await _rows(params, "SELECT * FROM cities ORDER BY geonameid")
    state_before = await _rows(params, "SELECT status, cities, loaded_at FROM load_state")

    lines = [city_line(r) for r in CITIES]
    lines[2] = city_line((*CITIES[2][:4], "abc", *CITIES[2][5:]))  # line 3: bad latitude
    lines[5] = city_line((*CITIES[5][:6], "XX", *CITIES[5][7:]))  # line 6: unknown country
    bad_countries, bad_cities = write_pair(tmp_path / "bad", cities=lines)
    with pytest.raises(LoadError) as err:
        await load_world(params, Source(bad_countries, bad_cities))
    assert err.value.problems == [
        "cities1000.txt:3: latitude 'abc' is not a number",
        "cities1000.txt:6: unknown country code 'XX'",
    ]

    assert await _rows(params, "SELECT * FROM cities ORDER BY geonameid") == before
    assert await _tables(params) == {"countries", "cities", "load_state", *index.INDEX_TABLES}
    status, cities_count, loaded_at, error = (
        await _rows(params, "SELECT status, cities, loaded_at, last_error FROM load_state")
    )[0]
    assert [(status, cities_count, loaded_at)] == state_before  # still describes the old data
    assert "cities1000.txt:3: latitude 'abc' is not a number" in error


async def test_a_file_in_another_encoding_loads_nothing(params: ConnParams, tmp_path: Path) -> None:
    countries, cities = write_pair(tmp_path)
    cities.write_bytes(cities.read_text("utf-8").encode("latin-1", errors="replace"))
    with pytest.raises(LoadError) as err:
        await load_world(params, Source(countries, cities))
    assert err.value.problems == ["cities1000.txt:4: not valid UTF-8 (byte 0xe3 at column 10)"]
    assert await _rows(params, "SELECT status, cities FROM load_state") == [("failed", 0)]
    assert await _rows(params, "SELECT COUNT(*) FROM cities") == [(0,)]


def test_the_command_line_reports_bad_lines_and_exits_2(params: ConnParams, tmp_path: Path) -> None:
    lines = [city_line(r) for r in CITIES]
    lines[1] = city_line(CITIES[1], columns=7)
    countries, cities = write_pair(tmp_path, cities=lines)
    cmd = [sys.executable, "-m", "searchapi.loader", "--countries", str(countries)]
    cmd += ["--cities", str(cities), "--host", params.host, "--port", str(params.port)]
    cmd += ["--user", params.user, "--password", params.password, "--database", params.database]
    bad = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2, bad.stderr
    assert "cities1000.txt:2: expected 19 tab-separated columns, found 7" in bad.stderr

    write_pair(tmp_path)
    good = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert good.returncode == 0, good.stderr
    assert f"6 countries, {len(CITIES)} cities loaded" in good.stdout


async def test_a_reader_holding_a_transaction_open_fails_the_swap_not_the_readers(
    params: ConnParams, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """RENAME must not queue every reader behind one idle transaction for long."""
    monkeypatch.setattr(load, "SWAP_WAIT_SECONDS", 1)
    monkeypatch.setattr(load, "SWAP_ATTEMPTS", 2)
    countries, cities = write_pair(tmp_path)
    await load_world(params, Source(countries, cities))
    idle = await connect(params, autocommit=False)
    try:
        async with idle.cursor() as cur:
            await cur.execute("SELECT COUNT(*) FROM cities")  # opens a transaction, left open
            await cur.fetchall()
        with pytest.raises(load.SwapBlocked, match="autocommit"):
            await load_world(params, Source(countries, cities))
    finally:
        await idle.ensure_closed()
    assert await _rows(params, "SELECT COUNT(*) FROM cities") == [(len(CITIES),)]
    assert await _tables(params) == {"countries", "cities", "load_state", *index.INDEX_TABLES}
    state = await _rows(params, "SELECT status, last_error FROM load_state")
    assert state[0][0] == "loaded" and "autocommit" in state[0][1]


async def test_concurrent_loads_take_turns_and_a_zip_loads_like_text(
    params: ConnParams, tmp_path: Path
) -> None:
    countries, cities = write_pair(tmp_path)
    archive = tmp_path / "cities1000.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.write(cities, "cities1000.txt")
    first, second = await asyncio.gather(
        load_world(params, Source(countries, cities)),
        load_world(params, Source(countries, archive)),
    )
    # The second waited for the first's lock: neither broke the other's staging tables.
    assert (first.cities, second.cities) == (len(CITIES), len(CITIES))
    state = await _rows(params, "SELECT status, cities, source FROM load_state")
    assert state[0][:2] == ("loaded", len(CITIES))
    assert state[0][2] in (first.source, second.source)
    assert await _tables(params) == {"countries", "cities", "load_state", *index.INDEX_TABLES}


def test_the_world_database_fixture_holds_the_full_real_world(
    world_database: str, mariadb: MariaDB
) -> None:
    counts = mariadb.sql(
        "SELECT (SELECT COUNT(*) FROM countries), (SELECT COUNT(*) FROM cities),"
        " (SELECT COUNT(*) FROM cities ci JOIN countries co ON co.iso = ci.country_code)",
        database=world_database,
    )
    assert counts.split() == ["252", "170391", "170391"]
    tables = set(mariadb.sql("SHOW TABLES", database=world_database).split())
    assert tables == {"countries", "cities", "load_state", *index.INDEX_TABLES}
    darwin = mariadb.sql(
        "SELECT ci.name, co.name FROM cities ci JOIN countries co ON co.iso = ci.country_code"
        " WHERE LOWER(ci.name) LIKE '%darwin%' ORDER BY 2, 1",
        database=world_database,
    )
    # Names are utf8mb4_bin (exact, accents and case kept), so the seed's plain
    # LIKE '%darwin%' would be case-sensitive here; LOWER() restores its meaning.
    assert darwin.splitlines() == [
        "Darwin\tArgentina",
        "Darwin\tAustralia",
        "Mount Darwin\tZimbabwe",
    ]
