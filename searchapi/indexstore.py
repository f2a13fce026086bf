"""The in-process index kept in MariaDB: built once by the loader, read by every API process.

`city_index_parts` holds the parts of indexparts.py, each split into rows of
at most PART_ROW_BYTES (under MariaDB's default 16 MiB max_allowed_packet once
escaped), plus a manifest row naming the data version they were built from.
The loader fills it in staging with the other tables and swaps it in with the
same RENAME, so the parts and load_state never disagree; `read_parts` still
checks the manifest's version against load_state in the reader's snapshot and
returns None on any mismatch (a world loaded by an older loader has no parts
at all), and the reader then builds from the rows as before.
"""

from typing import Any

from asyncmy.cursors import SSCursor

from searchapi import indexparts
from searchapi.memindex import Builder, CityIndex

PARTS_TABLE = "city_index_parts"
PARTS_DDL = """CREATE TABLE city_index_parts{s} (
        name VARCHAR(64) CHARACTER SET ascii NOT NULL,
        seq INT UNSIGNED NOT NULL,
        data LONGBLOB NOT NULL,
        PRIMARY KEY (name, seq)
    ) ENGINE=InnoDB"""
PART_ROW_BYTES = 4 * 1024 * 1024

# Row by row, streamed: measured against one GROUP_CONCAT row per 10,000 cities
# (fewer values for the driver to parse), MariaDB's sorts for the ordered
# GROUP_CONCATs cost more than the parsing saved.
_ROWS_SQL = (
    "SELECT r.item, r.country_code, r.population, r.latitude, r.longitude, r.folded"
    " FROM city_rows{s} r ORDER BY r.`rank`"
)
_CHUNK = 20_000
_INSERT = "INSERT INTO city_index_parts{s} (name, seq, data) VALUES (%s, %s, %s)"


def data_version(loaded_at: object, cities: object) -> str:
    """The data version of a load_state row (its load time and city count)."""
    return f"{loaded_at}/{cities}"


async def read_rows(conn: Any, suffix: str = "", rows_sql: str | None = None) -> Builder:
    """Every city of `city_rows{suffix}` in rank order, collected for a build."""
    builder = Builder()
    async with conn.cursor(SSCursor) as cur:
        await cur.execute(rows_sql or _ROWS_SQL.format(s=suffix))
        while chunk := await cur.fetchmany(_CHUNK):
            builder.add(chunk)
    return builder


async def write_parts(conn: Any, suffix: str, ix: CityIndex) -> int:
    """Store `ix`'s parts in `city_index_parts{suffix}` (no manifest yet); return the bytes."""
    total = 0
    async with conn.cursor() as cur:
        for name, data in indexparts.to_parts(ix):
            view = memoryview(data)
            for seq, at in enumerate(range(0, max(len(data), 1), PART_ROW_BYTES)):
                await cur.execute(
                    _INSERT.format(s=suffix), (name, seq, bytes(view[at : at + PART_ROW_BYTES]))
                )
            total += len(data)
    await conn.commit()
    return total


async def write_manifest(conn: Any, suffix: str, version: str) -> None:
    """Name the data version the stored parts describe (the loader's last step before its swap)."""
    async with conn.cursor() as cur:
        await cur.execute(
            _INSERT.format(s=suffix), (indexparts.MANIFEST, 0, indexparts.manifest(version))
        )
    await conn.commit()


async def table_exists(cur: Any, name: str) -> bool:
    """Whether the current database has a table `name`."""
    await cur.execute(
        "SELECT COUNT(*) FROM information_schema.tables"
        " WHERE table_schema = DATABASE() AND table_name = %s",
        (name,),
    )
    row = await cur.fetchone()
    return bool(row and row[0])


async def stored_version(conn: Any) -> str | None:
    """The data version of the stored index (None: none, or of another layout)."""
    async with conn.cursor() as cur:
        if not await table_exists(cur, PARTS_TABLE):
            return None
        await cur.execute(
            "SELECT data FROM city_index_parts WHERE name = %s AND seq = 0", (indexparts.MANIFEST,)
        )
        row = await cur.fetchone()
    return None if row is None else indexparts.manifest_version(bytes(row[0]))


async def read_parts(conn: Any, version: str) -> CityIndex | None:
    """The stored index of data version `version`, or None when none is stored for it.

    Runs in the caller's transaction (its consistent snapshot with load_state).
    """
    if await stored_version(conn) != version:
        return None
    chunks: dict[str, list[bytes]] = {}
    async with conn.cursor(SSCursor) as cur:
        await cur.execute(
            "SELECT name, data FROM city_index_parts WHERE name <> %s ORDER BY name, seq",
            (indexparts.MANIFEST,),
        )
        while batch := await cur.fetchmany(16):
            for name, data in batch:
                chunks.setdefault(name, []).append(data)
    parts = {
        name: pieces[0] if len(pieces) == 1 else b"".join(pieces) for name, pieces in chunks.items()
    }
    del chunks
    try:
        return indexparts.from_parts(version, parts)
    except (KeyError, ValueError):
        return None  # parts of another shape: build from the rows instead
