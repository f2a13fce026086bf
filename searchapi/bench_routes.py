"""Endpoints for bench/search.py only (SEARCHAPI_BENCH_ENDPOINTS=true).

/bench/seed runs the seed's full-scan query through the same app and pool, and
/bench/nodb answers without the database: the two yardsticks /cities is
measured against.
"""

from typing import Annotated

from fastapi import APIRouter, Query
from starlette.responses import Response

from searchapi import queries
from searchapi.api import PoolDep
from searchapi.render import json_response

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
async def nodb(q: Q) -> Response:
    """A same-shaped answer with no database work: the HTTP floor."""
    return json_response({"query": q, "total": 0, "limit": 50, "offset": 0, "items": []})
