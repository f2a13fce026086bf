"""City search: the SQL behind /cities; every value is bound, only fixed fragments are composed.

Two paths. The fast one (default order, names, no country filter; what the
page and most callers use) is one statement read in posting order, so its
LIMIT stops early. The general one looks the grams up first, then reads the
rarest gram's lists with the filters and the order asked for.
Rows come back either as columns (for the page and GeoJSON) or as JSON
objects built by the server (for /cities), which spares this process the
per-value decoding and encoding that would otherwise dominate its CPU.
"""

from dataclasses import dataclass
from typing import Any

from searchapi.pool import Pool, Row, fetchall
from searchapi.search import (
    CityQuery,
    GramPlan,
    Order,
    like_pattern,
    plan_grams,
    prefix_pattern,
    rarest,
)

ITEM_FIELDS = (
    "geonameid",
    "name",
    "asciiname",
    "country_code",
    "country",
    "latitude",
    "longitude",
    "population",
    "timezone",
)
_ESC = "ESCAPE '\\\\'"
_ALT_CONFIRM = (
    f"EXISTS (SELECT 1 FROM city_alt_names a WHERE a.`rank` = s.`rank` AND a.folded LIKE %s {_ESC})"  # noqa: S608
)
_RANGE_KIND = 255  # marks the country-range row in the gram lookup's result

_ROW = (
    "r.geonameid, r.name, r.asciiname, r.country_code, r.country,"
    " r.latitude, r.longitude, r.population, r.timezone"
)
_JSON_ROW = "JSON_OBJECT(" + ", ".join(f"'{f}', r.{f}" for f in ITEM_FIELDS) + ")"
_OUTER = (
    "SELECT m.total, {select} FROM ({inner}) m JOIN city_rows r ON r.`rank` = m.r"
    " ORDER BY {outer_order}"
)
_ORDERS = {
    Order.country: ("p.`rank`", "m.r"),
    Order.population: ("s.population DESC, p.`rank`", "m.pop DESC, m.r"),
    Order.relevance: ("rel, s.population DESC, p.`rank`", "m.rel, m.pop DESC, m.r"),
}
# Relevance classes on the city's own name: exact, prefix, word-prefix, infix,
# and (alt=true only) a match on an alternate name alone.
_RELEVANCE = (
    f"CASE WHEN s.folded = %s THEN 0 WHEN s.folded LIKE %s {_ESC} THEN 1"
    f" WHEN s.folded LIKE %s {_ESC} OR s.folded LIKE %s {_ESC} THEN 2"
    f" WHEN s.folded LIKE %s {_ESC} THEN 3 ELSE 4 END"
)


@dataclass(frozen=True)
class CitiesPage:
    """One page of /cities: the total number of matches and this page's items."""

    total: int
    items: list[dict[str, Any]]


@dataclass(frozen=True)
class CitiesJson:
    """One page of /cities with its items already a JSON array (text)."""

    total: int
    items_json: str


Found = tuple[int, list[Row]]  # total, page rows (total first in each row)


def _item(row: Row) -> dict[str, Any]:
    return dict(zip(ITEM_FIELDS, row[1:], strict=True))


def _lookup_sql(plan: GramPlan, country: str | None) -> tuple[str, list[Any]]:
    kinds = ", ".join(["%s"] * len(plan.kinds))
    grams = ", ".join(["%s"] * len(plan.grams))
    sql = f"SELECT k, kind, gid, n FROM city_grams WHERE kind IN ({kinds}) AND k IN ({grams})"  # noqa: S608
    args: list[Any] = [*plan.kinds, *plan.grams]
    if country:
        sql += f" UNION ALL SELECT NULL, {_RANGE_KIND}, lo, hi FROM city_country_ranges WHERE country_code = %s"  # noqa: S608,E501
        args.append(country)
    return sql, args


def _inner_sql(
    query: CityQuery, gids: list[int], exact: bool, rng: tuple[int, int] | None
) -> tuple[str, list[Any]]:
    """Matching ranks (plus sort keys) from the postings of `gids`, confirmed unless exact."""
    f = query.folded
    cols = "p.`rank` AS r, s.geonameid AS g, s.population AS pop"
    args: list[Any] = []
    if query.order is Order.relevance:
        cols += f", {_RELEVANCE} AS rel"
        args += [f, prefix_pattern(f), "% " + prefix_pattern(f), "%-" + prefix_pattern(f)]
        args.append(like_pattern(f))
    where = [f"p.gid IN ({', '.join(['%s'] * len(gids))})"]
    args += gids
    if rng is not None:
        # A country's cities are one contiguous rank range; the code check
        # only guards cities whose country row is missing (NULL names sort together).
        where += ["p.`rank` BETWEEN %s AND %s", "s.country_code = %s"]
        args += [rng[0], rng[1], query.country]
    if not exact:
        if query.alt:
            where.append(_ALT_CONFIRM)
        else:
            where.append(f"s.folded LIKE %s {_ESC}")
        args.append(like_pattern(f))
    sql = (
        f"SELECT {cols}{{total}} FROM city_postings p JOIN city_search s ON s.`rank` = p.`rank`"  # noqa: S608
        f" WHERE {' AND '.join(where)}"
    )
    return sql, args


async def search_cities(pool: Pool, query: CityQuery) -> CitiesPage:
    """Matches of `query`, one page of them, and their exact total."""
    total, rows = await pool.run(lambda conn: _search(conn, query, _ROW))
    return CitiesPage(total, [_item(r) for r in rows])


async def search_cities_json(pool: Pool, query: CityQuery) -> CitiesJson:
    """The same, with the items rendered as JSON by the database server."""
    total, rows = await pool.run(lambda conn: _search(conn, query, _JSON_ROW))
    return CitiesJson(total, "[" + ",".join(r[1] for r in rows) + "]")


_FAST = (
    "SELECT {total}, {select} FROM city_postings p{confirm_join}"
    " JOIN city_rows r ON r.`rank` = p.`rank`"
    " WHERE {where} ORDER BY p.`rank` LIMIT {limit:d} OFFSET {offset:d}"
)
_CONFIRM_JOIN = " JOIN city_search s ON s.`rank` = p.`rank`"
_FAST_EXACT = (
    "SELECT g.n, {select} FROM city_grams g JOIN city_postings p ON p.gid = g.gid"
    " JOIN city_rows r ON r.`rank` = p.`rank` WHERE g.kind = %s AND g.k = %s"
    " ORDER BY p.`rank` LIMIT {limit:d} OFFSET {offset:d}"
)


def _fast_where(
    query: CityQuery, plan: GramPlan, p: str = "p", s: str = "s"
) -> tuple[str, list[Any]]:
    """Postings of the rarest gram (chosen in SQL), confirmed by LIKE unless exact.

    If a gram is missing entirely, the LIKE still rejects every candidate, so
    choosing among the grams that exist is enough for exact answers.
    """
    marks = ", ".join(["%s"] * len(plan.grams))
    where = (
        f"{p}.gid = (SELECT gid FROM city_grams WHERE kind = %s AND k IN ({marks})"  # noqa: S608
        " ORDER BY n LIMIT 1)"
    )
    args: list[Any] = [plan.kinds[0], *plan.grams]
    if not plan.exact:
        where += f" AND {s}.folded LIKE %s {_ESC}"
        args.append(like_pattern(query.folded))
    return where, args


def _fast_total(query: CityQuery, plan: GramPlan) -> tuple[str, list[Any]]:
    """The exact total as a scalar subquery (run once per statement)."""
    if plan.exact:
        return "(SELECT n FROM city_grams WHERE kind = %s AND k = %s)", [
            plan.kinds[0],
            plan.grams[0],
        ]
    where, args = _fast_where(query, plan, "p2", "s2")
    sql = (
        "(SELECT COUNT(*) FROM city_postings p2 JOIN city_search s2 ON s2.`rank` = p2.`rank`"  # noqa: S608
        f" WHERE {where})"
    )
    return sql, args


async def _search_fast(conn: Any, query: CityQuery, plan: GramPlan, select: str) -> Found:
    """Default order, names only, no country: one statement, read in posting order.

    The LIMIT stops the page's scan early; the total is a scalar subquery (the
    list length when one gram is the whole answer).
    """
    total, args = _fast_total(query, plan)
    if plan.exact:
        # One gram is the whole answer: a plain join from its dictionary row,
        # no subqueries for the server to plan.
        sql = _FAST_EXACT.format(select=select, limit=query.limit, offset=query.offset)
        rows = await fetchall(conn, sql, args)
        if rows or query.offset == 0:
            return (int(rows[0][0]) if rows else 0), rows
        counted = await fetchall(conn, f"SELECT {total}", args)
        return int(counted[0][0] or 0), []
    where, where_args = _fast_where(query, plan)
    sql = _FAST.format(
        select=select,
        total=total,
        confirm_join=_CONFIRM_JOIN,
        where=where,
        limit=query.limit,
        offset=query.offset,
    )
    rows = await fetchall(conn, sql, [*args, *where_args])
    if rows:
        return int(rows[0][0] or 0), rows
    if query.offset == 0:
        return 0, []
    counted = await fetchall(conn, f"SELECT {total}", args)
    return int(counted[0][0] or 0), []


async def _search(conn: Any, query: CityQuery, select: str) -> Found:
    plan = plan_grams(query)
    if query.order is Order.country and not query.country and not query.alt:
        return await _search_fast(conn, query, plan, select)
    sql, args = _lookup_sql(plan, query.country)
    found: dict[bytes, list[tuple[int, int]]] = {}
    rng: tuple[int, int] | None = None
    lists: dict[int, int] = {}
    for k, kind, gid, n in await fetchall(conn, sql, args):
        if kind == _RANGE_KIND:
            rng = (gid, n)
        else:
            found.setdefault(bytes(k), []).append((gid, n))
            lists[gid] = n
    gids = rarest(plan, found)
    if gids is None or (query.country and rng is None):
        return 0, []
    inner, args = _inner_sql(query, gids, plan.exact, rng)
    known = sum(lists[g] for g in gids) if plan.exact and rng is None else None
    inner_order, outer_order = _ORDERS[query.order]
    total_col = ", COUNT(*) OVER () AS total" if known is None else f", {known:d} AS total"
    page = (
        inner.format(total=total_col)
        + f" ORDER BY {inner_order} LIMIT {query.limit:d} OFFSET {query.offset:d}"
    )
    sql = _OUTER.format(select=select, inner=page, outer_order=outer_order)
    rows = await fetchall(conn, sql, args)
    if rows:
        return int(rows[0][0]), rows
    if known is not None or query.offset == 0:
        return known or 0, []
    # Past the last page: count the matches on their own.
    count = await fetchall(conn, f"SELECT COUNT(*) FROM ({inner.format(total='')}) m", args)  # noqa: S608
    return int(count[0][0]), []
