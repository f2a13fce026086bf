"""Pure search planning: a /cities request validated, and the grams MariaDB looks up for it.

No I/O here. `make_query` turns parameters into a `CityQuery` (or a 422 naming
the parameter at fault). The in-process index (matching.py) answers most
queries; for the rest, cities.py runs SQL built from `plan_grams`: it reads the
rarest gram's postings and confirms candidates with an escaped LIKE, so
answers equal a full scan over the folded names either way.
"""

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from searchapi.errors import InvalidParameter
from searchapi.fold import fold
from searchapi.index import ALT_PREFIX, ALT_TRIGRAM, MAX_FOLDED, NAME_GRAM_KINDS, NAME_PREFIX

MAX_Q = 100
# Deepest offset served: deep pages of a big result cost a scan; narrow the query instead.
MAX_OFFSET = 10_000
MAX_LIMIT = 500


class Order(StrEnum):
    """Result orders: the seed's (country name, city name), population, relevance, distance."""

    country = "country"
    population = "population"
    relevance = "relevance"
    distance = "distance"


@dataclass(frozen=True)
class CityQuery:
    """A validated /cities request."""

    q: str
    folded: str
    country: str | None = None
    limit: int = 50
    offset: int = 0
    # None: the seed's country order, or with `near` the distance-population blend.
    order: Order | None = None
    alt: bool = False
    # None: typo tolerance only when the exact query finds nothing.
    fuzzy: bool | None = None
    near: tuple[float, float] | None = None

    @property
    def sql_order(self) -> Order:
        """The order MariaDB sorts by (it serves no `near`, so no distance)."""
        return self.order or Order.country


def normalise_q(raw: str) -> str:
    """NFC-normalised, trimmed query text (what the response echoes)."""
    return unicodedata.normalize("NFC", raw).strip()


def parse_near(near: str) -> tuple[float, float]:
    """`lat,lon` in degrees, each in range, or a 422 naming `near`."""
    parts = near.split(",")
    try:
        if len(parts) != 2:
            raise ValueError
        lat, lon = float(parts[0]), float(parts[1])
    except ValueError:
        raise InvalidParameter(("query", "near"), "near must be 'lat,lon' in degrees") from None
    if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
        raise InvalidParameter(
            ("query", "near"), "near: latitude must be in [-90, 90], longitude in [-180, 180]"
        )
    return lat, lon


def make_query(
    q: str,
    *,
    country: str | None = None,
    limit: int = 50,
    offset: int = 0,
    order: Order | None = None,
    alt: bool = False,
    fuzzy: bool | None = None,
    near: str | None = None,
) -> CityQuery:
    """Validate what the type checks cannot: q after trimming and folding, near, combinations."""
    point = parse_near(near) if near is not None else None
    if order is Order.distance and point is None:
        raise InvalidParameter(("query", "order"), "order=distance needs near=lat,lon")
    if alt and (fuzzy or point is not None):
        raise InvalidParameter(
            ("query", "alt"), "alt=true matches exactly and without near (alternate names)"
        )
    text = normalise_q(q)
    if not 1 <= len(text) <= MAX_Q:
        raise InvalidParameter(("query", "q"), f"q must be 1 to {MAX_Q} characters after trimming")
    folded = fold(text)
    if not folded:
        raise InvalidParameter(("query", "q"), "q has no searchable characters")
    if len(folded) > MAX_FOLDED:
        raise InvalidParameter(("query", "q"), "q is too long once folded")
    return CityQuery(
        q=text,
        folded=folded,
        country=country.upper() if country else None,
        limit=limit,
        offset=offset,
        order=order,
        alt=alt,
        fuzzy=fuzzy,
        near=point,
    )


@dataclass(frozen=True)
class GramPlan:
    """Which grams to look up, in which kinds, and whether one gram is the whole answer."""

    kinds: tuple[int, ...]
    grams: tuple[bytes, ...]
    # One gram whose posting list is exactly the answer (3 characters, or a prefix).
    exact: bool


def plan_grams(query: CityQuery) -> GramPlan:
    """Grams for `query`: its prefix (1-2 characters), else its longest indexed grams.

    Names are indexed by 3-, 4- and 5-grams, alternate names by trigrams.
    """
    f = query.folded
    if len(f) <= 2:
        kinds = (NAME_PREFIX, ALT_PREFIX) if query.alt else (NAME_PREFIX,)
        return GramPlan(kinds, (f.encode(),), exact=True)
    if query.alt:
        size, kinds = 3, (NAME_GRAM_KINDS[3], ALT_TRIGRAM)
    else:
        size = min(len(f), max(NAME_GRAM_KINDS))
        kinds = (NAME_GRAM_KINDS[size],)
    grams = tuple(dict.fromkeys(f[i : i + size].encode() for i in range(len(f) - size + 1)))
    return GramPlan(kinds, grams, exact=len(f) == size)


def rarest(plan: GramPlan, found: dict[bytes, list[tuple[int, int]]]) -> list[int] | None:
    """Gids of the rarest gram's lists ((gid, n) per kind found), or None if a gram is absent.

    With alt, a gram has a name list and an alternate-only list (disjoint);
    both are read. A gram absent from every list means nothing can match.
    """
    best: list[tuple[int, int]] | None = None
    for gram in plan.grams:
        lists = found.get(gram)
        if not lists:
            return None
        if best is None or sum(n for _, n in lists) < sum(n for _, n in best):
            best = lists
    return [gid for gid, _ in best or []]


def like_pattern(folded: str) -> str:
    r"""`%folded%` with LIKE's metacharacters escaped (escape character `\`)."""
    escaped = folded.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def prefix_pattern(folded: str) -> str:
    """`folded%` escaped, for prefix tests."""
    return like_pattern(folded)[1:]


# -- The SQL for MariaDB (alt=true, and until the in-process index is loaded) --
# Every value is bound; only fixed fragments are composed.


@dataclass(frozen=True)
class Statement:
    """One SQL statement and its arguments."""

    sql: str
    args: Sequence[Any]


_ESC = "ESCAPE '\\\\'"
_ALT_CONFIRM = (
    f"EXISTS (SELECT 1 FROM city_alt_names a WHERE a.`rank` = s.`rank` AND a.folded LIKE %s {_ESC})"  # noqa: S608
)
_RANGE_KIND = 255  # marks the country-range row in the gram lookup's result

ROW_COLUMNS = (
    "r.geonameid, r.name, r.asciiname, r.country_code, r.country,"
    " r.latitude, r.longitude, r.population, r.timezone"
)
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


def lookup_statement(plan: GramPlan, country: str | None) -> Statement:
    """The gram dictionary rows of `plan` (and the country's rank range, if any)."""
    kinds = ", ".join(["%s"] * len(plan.kinds))
    grams = ", ".join(["%s"] * len(plan.grams))
    sql = f"SELECT k, kind, gid, n FROM city_grams WHERE kind IN ({kinds}) AND k IN ({grams})"  # noqa: S608
    args: list[Any] = [*plan.kinds, *plan.grams]
    if country:
        sql += f" UNION ALL SELECT NULL, {_RANGE_KIND}, lo, hi FROM city_country_ranges WHERE country_code = %s"  # noqa: S608,E501
        args.append(country)
    return Statement(sql, args)


def _inner_sql(
    query: CityQuery, gids: list[int], exact: bool, rng: tuple[int, int] | None
) -> tuple[str, list[Any]]:
    """Matching ranks (plus sort keys) from the postings of `gids`, confirmed unless exact."""
    f = query.folded
    cols = "p.`rank` AS r, s.geonameid AS g, s.population AS pop"
    args: list[Any] = []
    if query.sql_order is Order.relevance:
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


def uses_fast_path(query: CityQuery) -> bool:
    """Default order, names only, no country: one statement read in posting order."""
    return query.sql_order is Order.country and not query.country and not query.alt


@dataclass(frozen=True)
class StatementPair:
    """A page (total in the first column) and the count to run when the page comes back empty."""

    page: Statement
    count: Statement
    known: int | None = None  # the total, when known without counting


def fast_plan(query: CityQuery, plan: GramPlan, select: str) -> StatementPair:
    """The fast path's page statement; the LIMIT stops the scan early.

    The total is a scalar subquery (the list length when one gram is the whole answer).
    """
    total, args = _fast_total(query, plan)
    count = Statement(f"SELECT {total}", args)
    if plan.exact:
        # One gram is the whole answer: a plain join from its dictionary row,
        # no subqueries for the server to plan.
        sql = _FAST_EXACT.format(select=select, limit=query.limit, offset=query.offset)
        return StatementPair(Statement(sql, args), count)
    where, where_args = _fast_where(query, plan)
    sql = _FAST.format(
        select=select,
        total=total,
        confirm_join=_CONFIRM_JOIN,
        where=where,
        limit=query.limit,
        offset=query.offset,
    )
    return StatementPair(Statement(sql, [*args, *where_args]), count)


@dataclass(frozen=True)
class Lookup:
    """What the gram lookup found: posting lists per gram, their lengths, the country range."""

    found: dict[bytes, list[tuple[int, int]]]
    lengths: dict[int, int]
    country_range: tuple[int, int] | None


def read_lookup(rows: Sequence[Sequence[Any]]) -> Lookup:
    """The rows of `lookup_statement`, sorted out."""
    found: dict[bytes, list[tuple[int, int]]] = {}
    lengths: dict[int, int] = {}
    rng: tuple[int, int] | None = None
    for k, kind, gid, n in rows:
        if kind == _RANGE_KIND:
            rng = (gid, n)
        else:
            found.setdefault(bytes(k), []).append((gid, n))
            lengths[gid] = n
    return Lookup(found, lengths, rng)


def page_plan(
    query: CityQuery, plan: GramPlan, lookup: Lookup, select: str
) -> StatementPair | None:
    """The general path's page statement over the rarest gram's lists (None: nothing matches)."""
    gids = rarest(plan, lookup.found)
    rng = lookup.country_range
    if gids is None or (query.country and rng is None):
        return None
    inner, args = _inner_sql(query, gids, plan.exact, rng)
    known = sum(lookup.lengths[g] for g in gids) if plan.exact and rng is None else None
    inner_order, outer_order = _ORDERS[query.sql_order]
    total_col = ", COUNT(*) OVER () AS total" if known is None else f", {known:d} AS total"
    page = (
        inner.format(total=total_col)
        + f" ORDER BY {inner_order} LIMIT {query.limit:d} OFFSET {query.offset:d}"
    )
    sql = _OUTER.format(select=select, inner=page, outer_order=outer_order)
    # Past the last page: count the matches on their own.
    count = f"SELECT COUNT(*) FROM ({inner.format(total='')}) m"  # noqa: S608
    return StatementPair(Statement(sql, args), Statement(count, args), known)
