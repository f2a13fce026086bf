"""The seed's search page (GET / and GET /search.php?searchFor=), every value escaped."""

from html import escape
from typing import Annotated

from fastapi import APIRouter, Query
from starlette.responses import HTMLResponse

from searchapi.api import PoolDep, SettingsDep
from searchapi.cities import CitiesPage, search_cities
from searchapi.errors import SearchError
from searchapi.search import CityQuery, make_query

router = APIRouter()

_HEAD = """<!DOCTYPE html>
<html>
<head>
<meta charset="utf-8">
<title>Cities Search</title>
</head>
<body>
<h3>Cities Search</h3>
<form action="search.php" method="get">
Search for: <input type="text" name="searchFor" value="{term}">
<input type="submit" value="Go!">
</form>
"""
_TAIL = "</body>\n</html>\n"


def render_page(term: str, query: CityQuery | None, page: CitiesPage | None, note: str) -> str:
    """The page: the form holding `term`, a note, and the result table if any."""
    parts = [_HEAD.format(term=escape(term, quote=True))]
    if note:
        parts.append(f"<p>{escape(note)}</p>\n")
    if page is not None and page.items:
        parts.append("<table>\n<tr><th>Country</th><th>City</th><th>Lat</th><th>Long</th></tr>\n")
        for item in page.items:
            cells = (item["country"] or item["country_code"], item["name"])
            coords = (item["latitude"], item["longitude"])
            parts.append(
                "<tr>"
                + "".join(f"<td>{escape(str(c))}</td>" for c in cells)
                + "".join(f"<td>{c:.5f}</td>" for c in coords)
                + "</tr>\n"
            )
        parts.append("</table>\n")
    parts.append(_TAIL)
    return "".join(parts)


async def _page(pool: PoolDep, term: str, rows: int) -> HTMLResponse:
    if not term.strip():
        return HTMLResponse(render_page(term, None, None, ""))
    try:
        query = make_query(term, limit=rows)
        page = await search_cities(pool, query)
    except SearchError as exc:
        return HTMLResponse(render_page(term, None, None, exc.detail), status_code=exc.status)
    shown = len(page.items)
    note = f"{page.total} cities" + (f", first {shown} shown" if shown < page.total else "")
    return HTMLResponse(render_page(term, query, page, note))


SearchFor = Annotated[str, Query(alias="searchFor", max_length=400)]


@router.get("/", response_class=HTMLResponse, summary="The search page")
async def index(pool: PoolDep, settings: SettingsDep, search_for: SearchFor = "") -> HTMLResponse:
    """The search form (and results, when searchFor is given)."""
    return await _page(pool, search_for, settings.page_rows)


@router.get("/search.php", response_class=HTMLResponse, summary="The seed's search page URL")
async def search_php(
    pool: PoolDep, settings: SettingsDep, search_for: SearchFor = ""
) -> HTMLResponse:
    """The seed's URL, kept for drop-in compatibility."""
    return await _page(pool, search_for, settings.page_rows)
