"""JSON and GeoJSON bodies of /cities (no per-item model validation on the way out)."""

from typing import Any

import orjson
from starlette.responses import Response

from searchapi.cities import FoundCitiesJson
from searchapi.matching import Hits
from searchapi.memindex import CityIndex
from searchapi.search import CityQuery


def _dumps(body: Any) -> bytes:
    return orjson.dumps(body)


def json_response(body: Any) -> Response:
    """A compact application/json response."""
    return Response(_dumps(body), media_type="application/json")


def _head(query: CityQuery, total: int, fuzzy: bool) -> bytes:
    return b'{"query":%s,"total":%d,"limit":%d,"offset":%d,"fuzzy":%s,"items":[' % (
        orjson.dumps(query.q),
        total,
        query.limit,
        query.offset,
        b"true" if fuzzy else b"false",
    )


def hits_body(ix: CityIndex, query: CityQuery, hits: Hits) -> bytes:
    """The /cities answer from the index: the items are the stored JSON objects."""
    item = ix.item
    if hits.distance_km is None and hits.edits is None:
        items = b",".join([item(r) for r in hits.ranks])
    else:
        parts = []
        for i, r in enumerate(hits.ranks):
            extra = b""
            if hits.distance_km is not None:
                extra += b', "distance_km": %s' % repr(hits.distance_km[i]).encode()
            if hits.edits is not None:
                extra += b', "edits": %d' % hits.edits[i]
            parts.append(item(r)[:-1] + extra + b"}")
        items = b",".join(parts)
    return _head(query, hits.total, hits.fuzzy) + items + b"]}"


def hits_items(ix: CityIndex, hits: Hits) -> list[dict[str, Any]]:
    """The page's items as dicts (for GeoJSON and the HTML page)."""
    out = []
    for i, r in enumerate(hits.ranks):
        item = orjson.loads(ix.item(r))
        if hits.distance_km is not None:
            item["distance_km"] = hits.distance_km[i]
        if hits.edits is not None:
            item["edits"] = hits.edits[i]
        out.append(item)
    return out


def cities_json(query: CityQuery, page: FoundCitiesJson) -> Response:
    """The /cities answer from MariaDB: the items come already rendered as JSON."""
    body = _head(query, page.total, False) + page.items_json.encode()[1:-1] + b"]}"
    return Response(body, media_type="application/json")


def cities_geojson(
    query: CityQuery, items: list[dict[str, Any]], total: int, fuzzy: bool
) -> Response:
    """The items as a GeoJSON FeatureCollection (RFC 7946), paging as foreign members."""
    features = [
        {
            "type": "Feature",
            "id": item["geonameid"],
            "geometry": {"type": "Point", "coordinates": [item["longitude"], item["latitude"]]},
            "properties": item,
        }
        for item in items
    ]
    body = {
        "type": "FeatureCollection",
        "features": features,
        "query": query.q,
        "total": total,
        "limit": query.limit,
        "offset": query.offset,
        "fuzzy": fuzzy,
    }
    return Response(_dumps(body), media_type="application/geo+json")
