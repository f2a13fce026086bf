"""City search by MariaDB: runs the statements search.py plans, on a pooled connection.

Used for alt=true and while the in-process index is not loaded yet. Two
paths. The fast one (default order, names, no country filter) is one
statement read in posting order, so its LIMIT stops early. The general one
looks the grams up first, then reads the rarest gram's lists with the filters
and the order asked for. Rows come back either as columns (for the page and
GeoJSON) or as JSON objects built by the server (for /cities).
"""

from dataclasses import dataclass
from typing import Any

from searchapi.fields import ITEM_FIELDS, JSON_ROW
from searchapi.pool import Pool, Row, fetchall
from searchapi.search import (
    ROW_COLUMNS,
    CityQuery,
    Statement,
    fast_plan,
    lookup_statement,
    page_plan,
    plan_grams,
    read_lookup,
    uses_fast_path,
)


@dataclass(frozen=True)
class FoundCities:
    """One page of matches read from MariaDB: the total and this page's items."""

    total: int
    items: list[dict[str, Any]]


@dataclass(frozen=True)
class FoundCitiesJson:
    """One page of /cities with its items already a JSON array (text)."""

    total: int
    items_json: str


Found = tuple[int, list[Row]]  # total, page rows (total first in each row)


def _item(row: Row) -> dict[str, Any]:
    return dict(zip(ITEM_FIELDS, row[1:], strict=True))


async def search_cities(pool: Pool, query: CityQuery) -> FoundCities:
    """Matches of `query`, one page of them, and their exact total."""
    total, rows = await pool.run(lambda conn: _search(conn, query, ROW_COLUMNS))
    return FoundCities(total, [_item(r) for r in rows])


async def search_cities_json(pool: Pool, query: CityQuery) -> FoundCitiesJson:
    """The same, with the items rendered as JSON by the database server."""
    total, rows = await pool.run(lambda conn: _search(conn, query, JSON_ROW))
    return FoundCitiesJson(total, "[" + ",".join(r[1] for r in rows) + "]")


async def _run(conn: Any, statement: Statement) -> list[Row]:
    return await fetchall(conn, statement.sql, statement.args)


async def _search(conn: Any, query: CityQuery, select: str) -> Found:
    """The total and the page's rows; a second statement only to count past the last page."""
    plan = plan_grams(query)
    if uses_fast_path(query):
        fast = fast_plan(query, plan, select)
        rows = await _run(conn, fast.page)
        if rows:
            return int(rows[0][0] or 0), rows
        if query.offset == 0:
            return 0, []
        return int((await _run(conn, fast.count))[0][0] or 0), []
    lookup = read_lookup(await _run(conn, lookup_statement(plan, query.country)))
    planned = page_plan(query, plan, lookup, select)
    if planned is None:
        return 0, []
    rows = await _run(conn, planned.page)
    if rows:
        return int(rows[0][0]), rows
    if planned.known is not None or query.offset == 0:
        return planned.known or 0, []
    return int((await _run(conn, planned.count))[0][0]), []
