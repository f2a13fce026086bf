"""Endpoints for bench/search.py only (SEARCHAPI_BENCH_ENDPOINTS=true).

/bench/seed runs the seed's full-scan query through the same app and pool, and
/bench/nodb answers without the database: the two yardsticks /cities is
measured against.
"""

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from starlette.responses import Response

from searchapi import queries, render
from searchapi.api import PoolDep
from searchapi.cities import FoundCitiesJson
from searchapi.render import json_response
from searchapi.search import MAX_LIMIT, MAX_OFFSET, MAX_Q, Order, make_query

router = APIRouter(prefix="/bench", tags=["bench"], include_in_schema=False)
Q = Annotated[str, Query(min_length=1, max_length=400)]


@router.get("/seed")
async def seed(pool: PoolDep, q: Q) -> Response:
    """The seed's query (LIKE '%q%' ORDER BY 1,2, a full scan)."""
    rows = await queries.seed_search(pool, q)
    items = [
        {"country": r[0], "name": r[1], "latitude": float(r[2]), "longitude": float(r[3])}
        for r in rows
    ]
    return json_response({"query": q, "total": len(items), "items": items})


@router.get("/nodb")
async def nodb(
    q: Annotated[str, Query(min_length=1, max_length=4 * MAX_Q)],
    country: Annotated[str | None, Query(pattern="^[A-Za-z]{2}$")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
    order: Order | None = None,
    alt: bool = False,
    format: Annotated[Literal["json", "geojson"], Query()] = "json",
) -> Response:
    """/cities' parameter handling and rendering without the database: the HTTP floor."""
    query = make_query(q, country=country, limit=limit, offset=offset, order=order, alt=alt)
    return render.cities_json(query, FoundCitiesJson(0, "[]"))
