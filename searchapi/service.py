"""/cities answered: from the in-process index when it is loaded, else by MariaDB.

The index answers every name query (exact, typo-tolerant, near). MariaDB
answers alternate-name queries (alt=true; their text is ten times the names',
kept out of memory) and everything while the first index is being built, so a
fresh replica serves exact answers from its first second.
"""

from dataclasses import dataclass
from typing import Any

from searchapi import cities as db_cities
from searchapi import matching, render
from searchapi.errors import NotLoaded
from searchapi.pool import Pool
from searchapi.search import CityQuery
from searchapi.snapshot import IndexHolder


@dataclass(frozen=True)
class Page:
    """One page of an answer as dicts (for GeoJSON and the HTML page)."""

    total: int
    items: list[dict[str, Any]]
    fuzzy: bool


def _needs_index(query: CityQuery) -> None:
    if query.fuzzy or query.near is not None:
        raise NotLoaded("the search index is still loading; fuzzy and near need it")


async def json_body(holder: IndexHolder, pool: Pool, query: CityQuery) -> bytes:
    """The /cities JSON body."""
    ix = holder.index
    if ix is not None and not query.alt:
        return render.hits_body(ix, query, matching.find(ix, query))
    _needs_index(query)
    found = await db_cities.search_cities_json(pool, query)
    return bytes(render.cities_json(query, found).body)


async def page(holder: IndexHolder, pool: Pool, query: CityQuery) -> Page:
    """The same answer with its items as dicts."""
    ix = holder.index
    if ix is not None and not query.alt:
        hits = matching.find(ix, query)
        return Page(hits.total, render.hits_items(ix, hits), hits.fuzzy)
    _needs_index(query)
    found = await db_cities.search_cities(pool, query)
    return Page(found.total, found.items, False)
