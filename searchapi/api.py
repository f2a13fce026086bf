"""Routes of the JSON API: /cities, /countries, /countries/{code}."""

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from starlette.responses import Response

from searchapi import queries, render, service
from searchapi.pool import Pool
from searchapi.schemas import CitiesPage, Country, Problem
from searchapi.search import MAX_LIMIT, MAX_OFFSET, MAX_Q, Order, make_query
from searchapi.settings import Settings
from searchapi.snapshot import IndexHolder

router = APIRouter()
_PROBLEMS: dict[int | str, dict[str, Any]] = {
    422: {"model": Problem, "description": "Invalid parameter (problem+json)"},
    503: {"model": Problem, "description": "Database unavailable or busy (problem+json)"},
}


async def get_pool(request: Request) -> Pool:
    """The app's database pool (made in the lifespan)."""
    pool: Pool = request.app.state.pool
    return pool


async def get_settings(request: Request) -> Settings:
    """The app's settings."""
    settings: Settings = request.app.state.settings
    return settings


PoolDep = Annotated[Pool, Depends(get_pool)]


async def get_holder(request: Request) -> IndexHolder:
    """The app's in-process index holder."""
    holder: IndexHolder = request.app.state.holder
    return holder


SettingsDep = Annotated[Settings, Depends(get_settings)]
HolderDep = Annotated[IndexHolder, Depends(get_holder)]

Q_DOC = (
    "Text the city name contains, anywhere (like the seed's LIKE '%q%'), ignoring case and "
    "accents ('zurich' finds Zürich). '%', '_' and '\\' are ordinary characters. "
    f"1 to {MAX_Q} characters after trimming. Queries of one or two characters "
    "(after folding) match name prefixes only."
)
FUZZY_DOC = (
    "Typo tolerance. true: also return names within 1 edit (queries up to 5 characters) "
    "or 2 edits (longer) of the query, read as the start of a word of the name, ranked by "
    "edits then population; each item gets `edits`. Unset: only when the exact query finds "
    "nothing. false: never. The answer says `fuzzy: true` when it applied. Queries of 3+ "
    "characters; not with alt=true."
)
NEAR_DOC = (
    "lat,lon in degrees (-90..90, -180..180): order the matches by distance shrunk by "
    "population (log10), like Photon's location bias; each item gets `distance_km`. "
    "With order=distance, by distance alone."
)
ORDER_DOC = (
    "country: country name then city name (the seed's order; the default without near); "
    "population: largest first; relevance: exact, prefix, word prefix, infix "
    "(then alternate-name-only matches), population breaking ties; distance: nearest "
    "first (needs near). With near and no order: the distance-population blend."
)


@router.get(
    "/cities",
    summary="Search cities by name",
    response_model=None,
    responses={200: {"model": CitiesPage}, **_PROBLEMS},
)
async def cities(
    pool: PoolDep,
    holder: HolderDep,
    q: Annotated[str, Query(description=Q_DOC, min_length=1, max_length=4 * MAX_Q)],
    country: Annotated[
        str | None, Query(description="ISO 3166 alpha-2 code", pattern="^[A-Za-z]{2}$")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
    offset: Annotated[
        int, Query(ge=0, le=MAX_OFFSET, description=f"At most {MAX_OFFSET}; narrow the query.")
    ] = 0,
    order: Annotated[Order | None, Query(description=ORDER_DOC)] = None,
    alt: Annotated[bool, Query(description="Match alternate names too")] = False,
    format: Annotated[Literal["json", "geojson"], Query()] = "json",
    fuzzy: Annotated[bool | None, Query(description=FUZZY_DOC)] = None,
    near: Annotated[str | None, Query(description=NEAR_DOC, examples=["-12.46,130.84"])] = None,
) -> Response:
    """Cities whose name contains `q`, one page of them, and the exact total."""
    query = make_query(
        q,
        country=country,
        limit=limit,
        offset=offset,
        order=order,
        alt=alt,
        fuzzy=fuzzy,
        near=near,
    )
    if format == "geojson":
        found = await service.page(holder, pool, query)
        return render.cities_geojson(query, found.items, found.total, found.fuzzy)
    body = await service.json_body(holder, pool, query)
    return Response(body, media_type="application/json")


@router.get("/countries", response_model=list[Country], responses=_PROBLEMS)
async def countries(pool: PoolDep) -> Response:
    """Every country, by name."""
    return render.json_response(await queries.list_countries(pool))


@router.get(
    "/countries/{code}",
    response_model=Country,
    responses={404: {"model": Problem}, **_PROBLEMS},
)
async def country(pool: PoolDep, code: Annotated[str, Path(pattern="^[A-Za-z]{2}$")]) -> Response:
    """One country by ISO code, with its number of cities."""
    return render.json_response(await queries.get_country(pool, code))
