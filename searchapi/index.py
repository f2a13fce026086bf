"""The search index the loader builds beside the cities table.

Contract with the loader (searchapi/loader): after the loader has filled the
staging table `cities{suffix}`, it calls `build_index(conn, suffix)`, which
creates and fills `<table>{suffix}` for every name in INDEX_TABLES. The loader
then swaps all staging tables in with one RENAME TABLE, so readers never see
the index and the cities out of step.

Layout (all text is folded with searchapi.fold.fold, the same function the
queries use, so index answers equal a full scan over folded names):

- city_search: one row per city, keyed by `rank` = the city's position in the
  default order (country name, then city name, as the seed's ORDER BY 1,2).
  Posting lists hold ranks, so reading a list in key order *is* the default
  order and a LIMIT can stop early.
- city_rows: what a search returns, per rank (the page reads one table), and
  for the API's in-process index (one table scan, no join): `item`, its JSON
  object as MariaDB's JSON_OBJECT renders it (fields.py), and the folded name.
- city_alt_names: the folded name and distinct folded alternate names per city.
- city_grams: the gram dictionary, (kind, k) -> (gid, n). k is the UTF-8 of a
  3-, 4- or 5-character substring or of the 1-2 character prefix of a folded name; n is
  the length of its posting list, used to start from the rarest gram and to
  answer `total` without counting.
- city_postings: (gid, rank), one posting list per gram, in rank order.
- city_country_ranges: each country's rank range (contiguous by construction).
- city_index_parts: the API's in-process index, built from city_rows by the
  loader after this (indexstore.py), read back by every API process.

Owned by the search API; the loader only calls it.
"""

from collections.abc import Iterable, Iterator
from typing import Any

from searchapi.fields import JSON_ROW
from searchapi.fold import fold
from searchapi.indexstore import PARTS_DDL, PARTS_TABLE, table_exists

INDEX_TABLES: tuple[str, ...] = (
    "city_search",
    "city_rows",
    "city_alt_names",
    "city_grams",
    "city_postings",
    "city_country_ranges",
    PARTS_TABLE,
)

# Gram kinds: trigrams and 1-2 character prefixes of the folded name, and the
# same for alternate names, minus what the name itself already posts. Names
# also post 4- and 5-grams: a query of 3 to 5 characters is then one exact list
# (its length is the total, a LIMIT reads the page), and a longer one starts
# from a 5-gram list close to its answer. That keeps the work near the size of
# the answer as the table grows; trigram lists grow much faster.
NAME_TRIGRAM, NAME_PREFIX, ALT_TRIGRAM, ALT_PREFIX, NAME_4GRAM, NAME_5GRAM = 0, 1, 2, 3, 4, 5
NAME_GRAM_KINDS = {3: NAME_TRIGRAM, 4: NAME_4GRAM, 5: NAME_5GRAM}

_BATCH = 20_000
# Longest folded name the index keeps (GeoNames names are at most 200 characters).
MAX_FOLDED = 400

_DDL = (
    """CREATE TABLE city_search{s} (
        `rank` INT UNSIGNED NOT NULL PRIMARY KEY,
        geonameid INT UNSIGNED NOT NULL,
        country_code CHAR(2) NULL,
        population BIGINT UNSIGNED NULL,
        folded VARCHAR(400) CHARACTER SET utf8mb4 COLLATE utf8mb4_nopad_bin NOT NULL,
        UNIQUE KEY (geonameid)
    ) ENGINE=InnoDB""",
    """CREATE TABLE city_rows{s} (
        `rank` INT UNSIGNED NOT NULL PRIMARY KEY,
        geonameid INT UNSIGNED NOT NULL,
        name VARCHAR(200) NOT NULL,
        asciiname VARCHAR(200) NOT NULL,
        country_code CHAR(2) NOT NULL,
        country VARCHAR(200) NULL,
        latitude DOUBLE NOT NULL,
        longitude DOUBLE NOT NULL,
        population BIGINT UNSIGNED NOT NULL,
        timezone VARCHAR(40) NOT NULL,
        item TEXT NULL,
        folded VARCHAR(400) CHARACTER SET utf8mb4 COLLATE utf8mb4_nopad_bin NOT NULL
    ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin""",
    """CREATE TABLE city_alt_names{s} (
        `rank` INT UNSIGNED NOT NULL,
        n SMALLINT UNSIGNED NOT NULL,
        folded VARCHAR(400) CHARACTER SET utf8mb4 COLLATE utf8mb4_nopad_bin NOT NULL,
        PRIMARY KEY (`rank`, n)
    ) ENGINE=InnoDB""",
    """CREATE TABLE city_grams{s} (
        kind TINYINT UNSIGNED NOT NULL,
        k VARBINARY(12) NOT NULL,
        gid INT UNSIGNED NOT NULL,
        n INT UNSIGNED NOT NULL,
        PRIMARY KEY (kind, k)
    ) ENGINE=InnoDB""",
    """CREATE TABLE city_postings{s} (
        gid INT UNSIGNED NOT NULL,
        `rank` INT UNSIGNED NOT NULL,
        PRIMARY KEY (gid, `rank`)
    ) ENGINE=InnoDB""",
    """CREATE TABLE city_country_ranges{s} (
        country_code CHAR(2) NOT NULL PRIMARY KEY,
        lo INT UNSIGNED NOT NULL,
        hi INT UNSIGNED NOT NULL
    ) ENGINE=InnoDB""",
    PARTS_DDL,
)


def grams(folded: str, size: int) -> set[str]:
    """The distinct `size`-character substrings of a folded name."""
    return {folded[i : i + size] for i in range(len(folded) - size + 1)}


def trigrams(folded: str) -> set[str]:
    """The distinct 3-character substrings of a folded name."""
    return grams(folded, 3)


def prefixes(folded: str) -> set[str]:
    """The 1- and 2-character prefixes of a folded name (1-2 character queries)."""
    return {folded[:1], folded[:2]} - {""}


def alt_names(name: str, alternatenames: str | None) -> list[str]:
    """Distinct folded names of a city, its own name first."""
    seen: dict[str, None] = {fold(name)[:MAX_FOLDED]: None}
    for alt in (alternatenames or "").split(","):
        folded = fold(alt)[:MAX_FOLDED]
        if folded:
            seen.setdefault(folded, None)
    return list(seen)


class _Postings:
    """Posting lists per (kind, gram); ranks arrive in increasing order, so lists stay sorted."""

    def __init__(self) -> None:
        self.lists: dict[tuple[int, bytes], list[int]] = {}

    def add(self, kind: int, grams: Iterable[str], rank: int) -> None:
        for gram in grams:
            self.lists.setdefault((kind, gram.encode()), []).append(rank)

    def rows(self) -> Iterator[tuple[tuple[int, bytes, int, int], list[int]]]:
        """(gram row, ranks) in key order; gids are dense in that order."""
        for gid, key in enumerate(sorted(self.lists)):
            ranks = self.lists[key]
            yield (key[0], key[1], gid, len(ranks)), ranks


def _chain(first: tuple[Any, ...], rest: Iterator[tuple[Any, ...]]) -> Iterator[tuple[Any, ...]]:
    yield first
    yield from rest


async def _insert(cur: Any, sql: str, rows: Iterable[tuple[Any, ...]]) -> None:
    batch: list[tuple[Any, ...]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= _BATCH:
            await cur.executemany(sql, batch)
            batch = []
    if batch:
        await cur.executemany(sql, batch)


async def build_index(conn: Any, suffix: str) -> None:
    """Create and fill the index tables for `cities{suffix}`."""
    s = suffix
    async with conn.cursor() as cur:
        countries = f"countries{s}" if await table_exists(cur, f"countries{s}") else "countries"
        # The loader drops stale staging tables before it calls us.
        for ddl in _DDL:
            await cur.execute(ddl.format(s=s))
        # The default order is decided by the server's collation, exactly as the
        # seed's ORDER BY 1,2 would; geonameid only breaks ties deterministically.
        await cur.execute(
            "SELECT c.geonameid, c.name, c.alternatenames, c.country_code, c.population,"  # noqa: S608
            " c.asciiname, co.name, c.latitude, c.longitude, c.timezone"
            f" FROM cities{s} c LEFT JOIN {countries} co ON co.iso = c.country_code"
            " ORDER BY co.name, c.name, c.geonameid"
        )
        rows = await cur.fetchall()
        search: list[tuple[Any, ...]] = []
        alts: list[tuple[int, int, str]] = []
        ranges: dict[str, list[int]] = {}
        postings = _Postings()
        out: list[tuple[Any, ...]] = []
        for rank, (gid, name, altnames, cc, population, *shown) in enumerate(rows):
            asciiname, country, lat, lon, tz = shown
            names = alt_names(name, altnames)
            folded = names[0]
            shown_row = (rank, gid, name, asciiname, cc, country, lat, lon, population, tz)
            out.append((*shown_row, None, folded))
            search.append((rank, gid, cc, population, folded))
            alts.extend((rank, n, alt) for n, alt in enumerate(names))
            if cc is not None:
                ranges.setdefault(cc, [rank, rank])[1] = rank
            name_tri, name_pre = trigrams(folded), prefixes(folded)
            postings.add(NAME_TRIGRAM, name_tri, rank)
            postings.add(NAME_PREFIX, name_pre, rank)
            postings.add(NAME_4GRAM, grams(folded, 4), rank)
            postings.add(NAME_5GRAM, grams(folded, 5), rank)
            if len(names) > 1:
                # Alternate grams exclude the name's own, so the two lists of a
                # gram are disjoint and an alt query reads both (exact union).
                alt_tri: set[str] = set().union(*(trigrams(a) for a in names[1:]))
                alt_pre: set[str] = set().union(*(prefixes(a) for a in names[1:]))
                postings.add(ALT_TRIGRAM, alt_tri - name_tri, rank)
                postings.add(ALT_PREFIX, alt_pre - name_pre, rank)
        del rows
        gram_rows = list(postings.rows())
        fills: list[tuple[str, Iterable[tuple[Any, ...]]]] = [
            ("city_search", search),
            ("city_rows", out),
            ("city_alt_names", alts),
            ("city_country_ranges", ((cc, lo, hi) for cc, (lo, hi) in ranges.items())),
            ("city_grams", (g for g, _ in gram_rows)),
            ("city_postings", ((g[2], rank) for g, ranks in gram_rows for rank in ranks)),
        ]
        for table, rows_in in fills:
            # Only our own table names are composed; every value is bound.
            first = next(iter(rows_in := iter(rows_in)), None)
            if first is None:
                continue
            marks = ", ".join(["%s"] * len(first))
            sql = f"INSERT INTO {table}{s} VALUES ({marks})"  # noqa: S608
            await _insert(cur, sql, _chain(first, rows_in))
        # Each city's answer item, rendered once here by the same JSON_OBJECT the
        # SQL path runs per query: an API process reads it instead of rendering
        # 170k objects at every start and reload (most of MariaDB's part of it).
        await cur.execute(f"UPDATE city_rows{s} r SET r.item = {JSON_ROW}")  # noqa: S608
    await conn.commit()
