"""JSON and GeoJSON bodies of /cities (plain json.dumps: no per-item model validation)."""

import json
from typing import Any

from starlette.responses import Response

from searchapi.cities import CitiesJson, CitiesPage
from searchapi.search import CityQuery


def _dumps(body: Any) -> bytes:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


def json_response(body: Any) -> Response:
    """A compact application/json response."""
    return Response(_dumps(body), media_type="application/json")


def cities_json(query: CityQuery, page: CitiesJson) -> Response:
    """The /cities answer: query, total, limit, offset, items (already JSON text)."""
    head = {"query": query.q, "total": page.total, "limit": query.limit, "offset": query.offset}
    # Splice the server-rendered items in as the last member of the object.
    body = _dumps(head)[:-1] + b',"items":' + page.items_json.encode() + b"}"
    return Response(body, media_type="application/json")


def cities_geojson(query: CityQuery, page: CitiesPage) -> Response:
    """The same items as a GeoJSON FeatureCollection (RFC 7946), paging as foreign members."""
    features = [
        {
            "type": "Feature",
            "id": item["geonameid"],
            "geometry": {"type": "Point", "coordinates": [item["longitude"], item["latitude"]]},
            "properties": item,
        }
        for item in page.items
    ]
    body = {
        "type": "FeatureCollection",
        "features": features,
        "query": query.q,
        "total": page.total,
        "limit": query.limit,
        "offset": query.offset,
    }
    return Response(_dumps(body), media_type="application/geo+json")
