"""Pure search planning: from the request's parameters to the grams and SQL to run.

No I/O here. The repository (queries.py) looks the planned grams up, then runs
`page_sql` with the postings of the rarest one; the escaped LIKE in that SQL
confirms candidates, so answers equal a full scan over the folded names.
"""

import unicodedata
from dataclasses import dataclass
from enum import StrEnum

from searchapi.errors import InvalidParameter
from searchapi.fold import fold
from searchapi.index import ALT_PREFIX, ALT_TRIGRAM, MAX_FOLDED, NAME_GRAM_KINDS, NAME_PREFIX

MAX_Q = 100
# Deepest offset served: deep pages of a big result cost a scan; narrow the query instead.
MAX_OFFSET = 10_000
MAX_LIMIT = 500


class Order(StrEnum):
    """Result orders: the seed's (country name, city name), population, relevance."""

    country = "country"
    population = "population"
    relevance = "relevance"


@dataclass(frozen=True)
class CityQuery:
    """A validated /cities request."""

    q: str
    folded: str
    country: str | None = None
    limit: int = 50
    offset: int = 0
    order: Order = Order.country
    alt: bool = False


def normalise_q(raw: str) -> str:
    """NFC-normalised, trimmed query text (what the response echoes)."""
    return unicodedata.normalize("NFC", raw).strip()


def make_query(
    q: str,
    *,
    country: str | None = None,
    limit: int = 50,
    offset: int = 0,
    order: Order = Order.country,
    alt: bool = False,
) -> CityQuery:
    """Validate what the type checks cannot: q's length after trimming, its folded form."""
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
