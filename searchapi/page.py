"""The seed's search page (GET / and GET /search.php?searchFor=), every value escaped."""

from html import escape
from typing import Annotated

from fastapi import APIRouter, Query
from starlette.responses import HTMLResponse

from searchapi import service
from searchapi.api import HolderDep, PoolDep, SettingsDep
from searchapi.errors import SearchError
from searchapi.search import make_query
from searchapi.service import Page

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
<label><input type="checkbox" name="fuzzy" value="true"{checked}> tolerate typos</label>
<input type="submit" value="Go!">
</form>
"""
_TAIL = "</body>\n</html>\n"


def _match(item: dict[str, object]) -> str:
    edits = item.get("edits")
    if not edits:
        return "exact"
    return f"close spelling ({edits} edit{'s' if edits != 1 else ''})"


def render_page(term: str, page: Page | None, note: str, fuzzy: bool = False) -> str:
    """The page: the form holding `term`, a note, and the result table if any.

    A typo-tolerant answer gets a Match column saying which rows are close
    spellings rather than the text typed.
    """
    checked = " checked" if fuzzy else ""
    parts = [_HEAD.format(term=escape(term, quote=True), checked=checked)]
    if note:
        parts.append(f"<p>{escape(note)}</p>\n")
    if page is not None and page.items:
        head = "<tr><th>Country</th><th>City</th><th>Lat</th><th>Long</th>"
        parts.append("<table>\n" + head + ("<th>Match</th>" if page.fuzzy else "") + "</tr>\n")
        for item in page.items:
            cells = (item["country"] or item["country_code"], item["name"])
            coords = (item["latitude"], item["longitude"])
            match = f"<td>{escape(_match(item))}</td>" if page.fuzzy else ""
            parts.append(
                "<tr>"
                + "".join(f"<td>{escape(str(c))}</td>" for c in cells)
                + "".join(f"<td>{c:.5f}</td>" for c in coords)
                + match
                + "</tr>\n"
            )
        parts.append("</table>\n")
    parts.append(_TAIL)
    return "".join(parts)


def _note(term: str, page: Page) -> str:
    shown = len(page.items)
    more = f", first {shown} shown" if shown < page.total else ""
    if page.fuzzy:
        exact = sum(1 for i in page.items if not i.get("edits"))
        lead = "No city matches exactly" if exact == 0 else "Typo-tolerant search"
        return f"{lead}: {page.total} cities with a close spelling of {term.strip()!r}{more}"
    return f"{page.total} cities{more}"


async def _page(
    holder: HolderDep, pool: PoolDep, term: str, rows: int, fuzzy: bool
) -> HTMLResponse:
    if not term.strip():
        return HTMLResponse(render_page(term, None, "", fuzzy))
    try:
        query = make_query(term, limit=rows, fuzzy=True if fuzzy else None)
        page = await service.page(holder, pool, query)
    except SearchError as exc:
        return HTMLResponse(render_page(term, None, exc.detail, fuzzy), status_code=exc.status)
    return HTMLResponse(render_page(term, page, _note(term, page), fuzzy))


SearchFor = Annotated[str, Query(alias="searchFor", max_length=400)]
Fuzzy = Annotated[
    bool, Query(description="Tolerate typos (they are tolerated anyway when nothing matches)")
]


@router.get("/", response_class=HTMLResponse, summary="The search page")
async def index(
    holder: HolderDep,
    pool: PoolDep,
    settings: SettingsDep,
    search_for: SearchFor = "",
    fuzzy: Fuzzy = False,
) -> HTMLResponse:
    """The search form (and results, when searchFor is given)."""
    return await _page(holder, pool, search_for, settings.page_rows, fuzzy)


@router.get("/search.php", response_class=HTMLResponse, summary="The seed's search page URL")
async def search_php(
    holder: HolderDep,
    pool: PoolDep,
    settings: SettingsDep,
    search_for: SearchFor = "",
    fuzzy: Fuzzy = False,
) -> HTMLResponse:
    """The seed's URL, kept for drop-in compatibility."""
    return await _page(holder, pool, search_for, settings.page_rows, fuzzy)
