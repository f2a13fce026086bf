"""The lean path for GET /cities: well-formed requests answered from the index in one step.

What it exists to avoid: per request, FastAPI's dependency injection and
validation of nine parameters and the cancel-on-disconnect watcher task cost
more CPU than the search itself. A request this module recognises as plainly
valid (every parameter in its simplest spelling) is answered here, synchronously,
from the in-process index; anything else -- an error to report, alt=true,
GeoJSON, an unusual spelling, no index yet -- goes on to the FastAPI route, which
stays the documented contract (OpenAPI) and gives the same answers.
A search from memory never waits, so there is nothing to cancel.
"""

import re
import time
from urllib.parse import parse_qsl

from starlette.types import Scope, Send

from searchapi import matching, render
from searchapi.errors import InvalidParameter
from searchapi.metrics import Metrics
from searchapi.search import MAX_LIMIT, MAX_OFFSET, MAX_Q, CityQuery, Order, make_query
from searchapi.snapshot import IndexHolder

_COUNTRY = re.compile(r"[A-Za-z]{2}")
_ORDERS = {o.value: o for o in Order}
_BOOLS = {"true": True, "false": False}
_KNOWN = frozenset({"q", "country", "limit", "offset", "order", "alt", "format", "fuzzy", "near"})
_HEADERS = [(b"content-type", b"application/json")]


def _int(text: str | None, default: int, lo: int, hi: int) -> int | None:
    if text is None:
        return default
    if not (text.isascii() and text.isdigit()):
        return None
    value = int(text)
    return value if lo <= value <= hi else None


def parse(query_string: bytes) -> CityQuery | None:
    """The request's query when every parameter is plainly valid, else None (the route decides)."""
    params = dict(parse_qsl(query_string.decode("latin-1"), keep_blank_values=True))
    q = params.get("q")
    if q is None or not 1 <= len(q) <= 4 * MAX_Q or not params.keys() <= _KNOWN:
        return None
    country = params.get("country")
    if country is not None and not _COUNTRY.fullmatch(country):
        return None
    limit = _int(params.get("limit"), 50, 1, MAX_LIMIT)
    offset = _int(params.get("offset"), 0, 0, MAX_OFFSET)
    order_text = params.get("order")
    order = _ORDERS.get(order_text) if order_text is not None else None
    fuzzy_text = params.get("fuzzy")
    fuzzy = _BOOLS.get(fuzzy_text) if fuzzy_text is not None else None
    if (
        limit is None
        or offset is None
        or (order_text is not None and order is None)
        or (fuzzy_text is not None and fuzzy is None)
        or params.get("alt", "false") != "false"
        or params.get("format", "json") != "json"
    ):
        return None
    try:
        return make_query(
            q,
            country=country,
            limit=limit,
            offset=offset,
            order=order,
            fuzzy=fuzzy,
            near=params.get("near"),
        )
    except InvalidParameter:
        return None  # the route renders the problem


class FastCities:
    """Answers what `parse` accepts when an index is loaded; returns False for the rest."""

    def __init__(self, holder: IndexHolder, metrics: Metrics) -> None:
        self.holder = holder
        self._count = metrics.requests.labels("GET", "/cities", "200")
        self._latency = metrics.latency.labels("/cities")

    async def handle(self, scope: Scope, send: Send) -> bool:
        """Serve the request and return True, or return False without touching it."""
        ix = self.holder.index
        if ix is None or scope["method"] != "GET":
            return False
        started = time.perf_counter()
        query = parse(scope["query_string"])
        if query is None:
            return False
        body = render.hits_body(ix, query, matching.find(ix, query))
        headers = [*_HEADERS, (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})
        self._count.inc()
        self._latency.observe(time.perf_counter() - started)
        return True
