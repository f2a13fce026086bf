"""The search API against the real world database (252 countries, 170,391 cities)."""

import asyncio
import json
import random
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from searchapi.app import create_app
from searchapi.fold import fold
from searchapi.settings import Settings
from tests.harness import MariaDB
from tests.world_fixture import conn_params, connect

pytestmark = pytest.mark.integration


def settings_for(mariadb: MariaDB, database: str, **extra: Any) -> Settings:
    """Settings pointing the API at `database` with the test account."""
    return Settings(
        db_host=mariadb.host,
        db_port=mariadb.port,
        db_user=mariadb.user,
        db_password=mariadb.password,
        db_name=database,
        **extra,
    )


@pytest.fixture(params=["memory", "sql"])
async def both(
    request: pytest.FixtureRequest, mariadb: MariaDB, world_database: str
) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the app answering from its in-process index, then one answering by SQL."""
    memory = request.param == "memory"
    app = create_app(settings_for(mariadb, world_database, pool_size=4, memory_index=memory))
    async with app.router.lifespan_context(app):
        if memory:
            await app.state.holder.wait_for(lambda ix: True, timeout=120)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://search") as c:
            yield c


@pytest.fixture
async def client(mariadb: MariaDB, world_database: str) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client talking to the app in process (lifespan run, index loaded)."""
    app = create_app(settings_for(mariadb, world_database, pool_size=4))
    async with app.router.lifespan_context(app):
        await app.state.holder.wait_for(lambda ix: True, timeout=120)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://search") as c:
            yield c


@pytest.fixture(scope="module")
def world_rows(mariadb: MariaDB, world_database: str) -> list[tuple[int, str, str, str, str]]:
    """(geonameid, name, alternatenames, country_code, country name) of every city."""

    async def read() -> list[tuple[int, str, str, str, str]]:
        conn = await connect(conn_params(mariadb, world_database), autocommit=False)
        try:
            async with conn.cursor() as cur:
                await cur.execute(
                    "SELECT c.geonameid, c.name, c.alternatenames, c.country_code, co.name"
                    " FROM cities c LEFT JOIN countries co ON co.iso = c.country_code"
                )
                return list(await cur.fetchall())
        finally:
            conn.close()

    return asyncio.run(read())


def scan(rows: list[tuple[int, str, str, str, str]], q: str, alt: bool = False) -> set[int]:
    """The reference answer: a full scan over folded names (prefix for 1-2 characters)."""
    f = fold(q)

    def hit(name: str) -> bool:
        n = fold(name)
        return n.startswith(f) if len(f) <= 2 else f in n

    out = set()
    for gid, name, alts, _, _ in rows:
        names = [name, *(a for a in alts.split(",") if a)] if alt else [name]
        if any(hit(n) for n in names):
            out.add(gid)
    return out


async def get(client: httpx.AsyncClient, path: str, **params: Any) -> Any:
    r = await client.get(path, params=params)
    assert r.status_code == 200, r.text
    return r.json()


async def all_ids(client: httpx.AsyncClient, q: str, **params: Any) -> tuple[int, list[int]]:
    """Total and every exactly matching geonameid, paging through the answer."""
    params.setdefault("fuzzy", "false")  # no typo-tolerant fallback when nothing matches
    ids: list[int] = []
    total = None
    while True:
        body = await get(client, "/cities", q=q, limit=500, offset=len(ids), **params)
        total = body["total"] if total is None else total
        assert body["total"] == total
        ids += [item["geonameid"] for item in body["items"]]
        if not body["items"] or len(ids) >= total:
            return total, ids


async def test_darwin_is_exactly_the_seeds_three_in_order(client: httpx.AsyncClient) -> None:
    body = await get(client, "/cities", q="darwin")
    got = [(i["name"], i["country"], i["latitude"], i["longitude"]) for i in body["items"]]
    assert got == [
        ("Darwin", "Argentina", -39.20334, -65.73952),
        ("Darwin", "Australia", -12.46113, 130.84185),
        ("Mount Darwin", "Zimbabwe", -16.77251, 31.58381),
    ]
    assert body["total"] == 3 and body["query"] == "darwin"
    assert set(body["items"][0]) == {
        "geonameid", "name", "asciiname", "country_code", "country",
        "latitude", "longitude", "population", "timezone",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("q", "name"),
    [("zurich", "Zürich"), ("ZÜRICH", "Zürich"), ("sao paulo", "São Paulo"), ("DARWIN", "Darwin")],
)
async def test_case_and_accents_are_ignored(client: httpx.AsyncClient, q: str, name: str) -> None:
    body = await get(client, "/cities", q=q, limit=500)
    assert name in [i["name"] for i in body["items"]]


async def test_infix(client: httpx.AsyncClient) -> None:
    body = await get(client, "/cities", q="arwi")
    assert {"Darwin", "Mount Darwin"} <= {i["name"] for i in body["items"]}


@pytest.mark.parametrize("q", ["%", "_", "\\", "'", "l'a", "d'", "a%", "_a", "%%", "o\\"])
async def test_wildcards_and_quotes_are_literal(
    both: httpx.AsyncClient, world_rows: list[Any], q: str
) -> None:
    total, ids = await all_ids(both, q)
    assert set(ids) == scan(world_rows, q)
    assert total == len(ids)


async def test_index_answers_equal_a_full_scan(
    both: httpx.AsyncClient, world_rows: list[Any]
) -> None:
    rnd = random.Random(7)
    queries = ["a", "zu", "ber", "san", "ville", "xq", "qqq", "aaa", "a b", "-s"]
    for _ in range(50):
        name = rnd.choice(world_rows)[1]
        size = rnd.randint(1, 9)
        start = rnd.randrange(max(1, len(name) - size + 1))
        queries.append(name[start : start + size])
    for q in queries:
        if not fold(q.strip()):
            continue
        want = scan(world_rows, q.strip())
        if len(want) > 2000:
            body = await get(both, "/cities", q=q, limit=1, fuzzy="false")
            assert body["total"] == len(want), q
            continue
        total, ids = await all_ids(both, q)
        assert (total, set(ids)) == (len(want), want), q
        assert len(ids) == len(set(ids))


async def test_alternate_names(client: httpx.AsyncClient, world_rows: list[Any]) -> None:
    for q in ["münchen", "lisboa", "firenze", "ab", "wien"]:
        total, ids = await all_ids(client, q, alt="true")
        want = scan(world_rows, q, alt=True)
        assert (total, set(ids)) == (len(want), want), q
    _, ids = await all_ids(client, "münchen", alt="true")
    assert 2867714 in ids  # Munich
    _, ids = await all_ids(client, "münchen")
    assert 2867714 not in ids


async def test_paging_and_total(both: httpx.AsyncClient) -> None:
    whole = await get(both, "/cities", q="san", limit=40)
    first = await get(both, "/cities", q="san", limit=20)
    second = await get(both, "/cities", q="san", limit=20, offset=20)
    assert first["items"] + second["items"] == whole["items"]
    assert first["total"] == second["total"] == whole["total"] > 40
    beyond = await get(both, "/cities", q="san", offset=10_000)
    assert beyond["items"] == [] and beyond["total"] == whole["total"]
    assert len((await get(both, "/cities", q="a", limit=500))["items"]) == 500


async def test_default_order_is_country_then_city(both: httpx.AsyncClient) -> None:
    items = (await get(both, "/cities", q="ber", limit=500))["items"]
    keys = [(i["country"], i["name"]) for i in items]
    assert keys == sorted(keys)  # utf8mb4_bin: code point order, like Python's


async def test_population_order(both: httpx.AsyncClient) -> None:
    items = (await get(both, "/cities", q="ber", order="population", limit=100))["items"]
    pops = [i["population"] for i in items]
    assert pops == sorted(pops, reverse=True)
    assert items[0]["name"] == "Berlin"


async def test_relevance_order(both: httpx.AsyncClient) -> None:
    items = (await get(both, "/cities", q="paris", order="relevance", limit=500))["items"]

    def rank(name: str) -> int:
        n = fold(name)
        if n == "paris":
            return 0
        if n.startswith("paris"):
            return 1
        return 2 if (" paris" in n or "-paris" in n) else 3

    ranks = [rank(i["name"]) for i in items]
    assert ranks == sorted(ranks) and ranks[0] == 0
    exact = [i["population"] for i in items if rank(i["name"]) == 0]
    assert exact == sorted(exact, reverse=True)
    assert items[0]["country_code"] == "FR"


async def test_country_filter(both: httpx.AsyncClient) -> None:
    body = await get(both, "/cities", q="darwin", country="au")
    assert [i["country_code"] for i in body["items"]] == ["AU"] and body["total"] == 1
    body = await get(both, "/cities", q="san", country="AR", order="population", limit=500)
    assert body["total"] == len(body["items"]) > 0
    assert {i["country_code"] for i in body["items"]} == {"AR"}
    assert (await get(both, "/cities", q="darwin", country="ZZ"))["total"] == 0


async def test_geojson(client: httpx.AsyncClient) -> None:
    r = await client.get("/cities", params={"q": "darwin", "format": "geojson"})
    assert r.headers["content-type"].startswith("application/geo+json")
    body = r.json()
    assert body["type"] == "FeatureCollection" and len(body["features"]) == 3
    for feature in body["features"]:
        assert feature["type"] == "Feature"
        lon, lat = feature["geometry"]["coordinates"]
        assert feature["geometry"]["type"] == "Point"
        assert -180 <= lon <= 180 and -90 <= lat <= 90
        assert (lat, lon) == (feature["properties"]["latitude"], feature["properties"]["longitude"])


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({}, "q"),
        ({"q": ""}, "q"),
        ({"q": "   "}, "q"),
        ({"q": "x" * 101}, "q"),
        ({"q": "a", "limit": "0"}, "limit"),
        ({"q": "a", "limit": "501"}, "limit"),
        ({"q": "a", "limit": "ten"}, "limit"),
        ({"q": "a", "offset": "10001"}, "offset"),
        ({"q": "a", "offset": "-1"}, "offset"),
        ({"q": "a", "order": "random"}, "order"),
        ({"q": "a", "country": "AUS"}, "country"),
        ({"q": "a", "country": "1'"}, "country"),
        ({"q": "a", "format": "xml"}, "format"),
    ],
)
async def test_invalid_parameters_are_422_problems(
    client: httpx.AsyncClient, params: dict[str, str], field: str
) -> None:
    r = await client.get("/cities", params=params)
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert (body["status"] == 422 and body["title"] and field in body["detail"]) or body["errors"]
    assert any(e["loc"][-1] == field for e in body["errors"])


async def test_countries(client: httpx.AsyncClient) -> None:
    countries = await get(client, "/countries")
    assert len(countries) == 252
    au = await get(client, "/countries/au")
    assert (au["iso"], au["name"], au["capital"]) == ("AU", "Australia", "Canberra")
    assert au["cities"] > 1000
    r = await client.get("/countries/XX")
    assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"
    assert (await client.get("/countries/A1")).status_code == 422


async def test_page(client: httpx.AsyncClient) -> None:
    r = await client.get("/")
    assert r.status_code == 200 and "<h3>Cities Search</h3>" in r.text
    assert 'name="searchFor"' in r.text and 'value="Go!"' in r.text
    r = await client.get("/search.php", params={"searchFor": "darwin"})
    assert "<th>Country</th><th>City</th><th>Lat</th><th>Long</th>" in r.text
    assert "<td>Australia</td><td>Darwin</td><td>-12.46113</td><td>130.84185</td>" in r.text
    assert 'value="darwin"' in r.text


async def test_page_renders_script_inert(client: httpx.AsyncClient) -> None:
    evil = '"><script>alert(1)</script>'
    r = await client.get("/search.php", params={"searchFor": evil})
    assert "<script>" not in r.text
    assert 'value="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"' in r.text


async def test_ops(client: httpx.AsyncClient) -> None:
    assert (await get(client, "/healthz"))["status"] == "ok"
    assert (await get(client, "/readyz"))["status"] == "ready"
    await client.get("/cities", params={"q": "darwin"})
    text = (await client.get("/metrics")).text
    assert 'searchapi_requests_total{method="GET",route="/cities",status="200"}' in text
    assert 'searchapi_request_duration_seconds_bucket{le="0.005",route="/cities"}' in text
    assert "searchapi_db_pool_size 4.0" in text and "searchapi_db_pool_in_use 0.0" in text
    doc = json.loads((await client.get("/openapi.json")).text)
    assert "prefix" in doc["paths"]["/cities"]["get"]["parameters"][0]["description"]


async def test_503_before_the_data_is_loaded(mariadb: MariaDB, database: str) -> None:
    app = create_app(settings_for(mariadb, database))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://search") as c:
            for path in ("/readyz", "/cities?q=darwin"):  # no tables at all
                r = await c.get(path)
                assert r.status_code == 503 and r.json()["title"] == "World data not loaded"
            mariadb.sql(
                "CREATE TABLE load_state (id TINYINT PRIMARY KEY, status VARCHAR(16));"
                " INSERT INTO load_state VALUES (1, 'loading');",
                database=database,
            )
            r = await c.get("/readyz")
            assert r.status_code == 503 and r.json()["title"] == "Not ready"
            assert r.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    "params",
    [
        {"q": "l'a", "limit": 500},
        {"q": "san", "limit": 200, "offset": 100},
        {"q": "münchen", "alt": "true"},
        {"q": "ber", "order": "relevance", "country": "DE"},
        {"q": "zürich", "order": "population"},
    ],
)
async def test_server_rendered_json_equals_the_columns(
    client: httpx.AsyncClient, params: dict[str, Any]
) -> None:
    as_json = await get(client, "/cities", **params)
    as_geojson = await get(client, "/cities", format="geojson", **params)
    assert as_json["items"] == [f["properties"] for f in as_geojson["features"]]
    assert as_json["total"] == as_geojson["total"] and as_json["items"]
