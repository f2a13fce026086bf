"""The in-process index: same bytes as MariaDB, typo tolerance, near, and reloads."""

import asyncio
import random
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from searchapi.app import SearchApp, create_app
from searchapi.fold import fold
from searchapi.loader import Source, load_world
from searchapi.settings import Settings
from tests.geonames_samples import write_real_pair
from tests.harness import MariaDB
from tests.world_fixture import conn_params

pytestmark = pytest.mark.integration

DARWIN_AU = 2073124


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


async def _client(app: SearchApp) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://search")


@pytest.fixture(scope="module")
def names(mariadb: MariaDB, world_database: str) -> list[tuple[int, str, int]]:
    """(geonameid, name, population) of every city."""
    out = mariadb.sql("SELECT geonameid, name, population FROM cities", database=world_database)
    rows = [line.split("\t") for line in out.splitlines()]
    return [(int(g), n, int(p)) for g, n, p in rows]


@pytest.fixture
async def pair(
    mariadb: MariaDB, world_database: str
) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient]]:
    """A client of the app answering from memory and one of the app answering by SQL."""
    memory = create_app(settings_for(mariadb, world_database))
    sql = create_app(settings_for(mariadb, world_database, memory_index=False))
    async with memory.router.lifespan_context(memory), sql.router.lifespan_context(sql):
        await memory.state.holder.wait_for(lambda ix: True, timeout=120)
        async with await _client(memory) as m, await _client(sql) as s:
            yield m, s


@pytest.fixture
async def client(
    pair: tuple[httpx.AsyncClient, httpx.AsyncClient],
) -> httpx.AsyncClient:
    """The client of the app answering from memory."""
    return pair[0]


async def test_memory_answers_are_the_sql_answers_byte_for_byte(
    pair: tuple[httpx.AsyncClient, httpx.AsyncClient], names: list[tuple[int, str, int]]
) -> None:
    memory, sql = pair
    rnd = random.Random(5)
    queries = ["a", "zu", "ber", "san", "ville", "l'a", "%", "é", "sao paulo", "qqqq"]
    for _ in range(60):
        name = rnd.choice(names)[1]
        size = rnd.randint(1, 10)
        start = rnd.randrange(max(1, len(name) - size + 1))
        queries.append(name[start : start + size])
    for q in queries:
        params: dict[str, Any] = {"q": q, "fuzzy": "false"}
        params["order"] = rnd.choice(["country", "population", "relevance"])
        params["limit"] = rnd.choice([1, 7, 50, 500])
        params["offset"] = rnd.choice([0, 0, 3, 40])
        if rnd.random() < 0.3:
            params["country"] = rnd.choice(["US", "de", "FR", "ar", "ZZ"])
        a, b = await memory.get("/cities", params=params), await sql.get("/cities", params=params)
        assert (a.status_code, a.content) == (b.status_code, b.content), params


async def test_the_lean_path_and_the_route_give_the_same_bytes(client: httpx.AsyncClient) -> None:
    # `alt=0` is valid (false) but not the plain spelling the lean path takes: the route answers.
    cases: list[dict[str, str]] = [
        {"q": "darwin"},
        {"q": "zurih"},
        {"q": "san", "near": "40,-3", "limit": "5"},
    ]
    for params in cases:
        lean = await client.get("/cities", params=params)
        routed = await client.get("/cities", params={**params, "alt": "0"})
        assert lean.status_code == routed.status_code == 200
        assert lean.content == routed.content


@pytest.mark.parametrize(
    ("q", "want"),
    [("darwn", "Darwin"), ("zurih", "Zürich"), ("lodon", "London"), ("new yrok", "New York City")],
)
async def test_typos_find_the_city(client: httpx.AsyncClient, q: str, want: str) -> None:
    body = (await client.get("/cities", params={"q": q, "fuzzy": "true"})).json()
    assert body["fuzzy"] is True
    hit = next(i for i in body["items"] if i["name"] == want)
    assert hit["edits"] == 1
    assert [i["edits"] for i in body["items"]] == sorted(i["edits"] for i in body["items"])
    assert body["total"] >= len(body["items"]) > 0


async def test_typo_tolerance_is_automatic_when_nothing_matches(client: httpx.AsyncClient) -> None:
    body = (await client.get("/cities", params={"q": "darwn"})).json()
    assert body["fuzzy"] is True and DARWIN_AU in {i["geonameid"] for i in body["items"]}
    none = (await client.get("/cities", params={"q": "darwn", "fuzzy": "false"})).json()
    assert (none["total"], none["fuzzy"], none["items"]) == (0, False, [])
    exact = (await client.get("/cities", params={"q": "darwin"})).json()
    assert exact["fuzzy"] is False and "edits" not in exact["items"][0]


async def test_fuzzy_true_ranks_exact_first_then_by_edits_and_population(
    client: httpx.AsyncClient,
) -> None:
    body = (await client.get("/cities", params={"q": "paris", "fuzzy": "true"})).json()
    assert body["fuzzy"] is True
    keys = [(i["edits"], -i["population"]) for i in body["items"]]
    assert keys == sorted(keys) and keys[0][0] == 0
    assert body["items"][0]["name"] == "Paris"
    for item in body["items"]:
        assert (item["edits"] == 0) == ("paris" in fold(item["name"]))


def _typo(word: str, edits: int, rnd: random.Random) -> str:
    letters = "abcdefghijklmnopqrstuvwxyz"
    for _ in range(edits):
        i = rnd.randrange(1, len(word) - 1)
        kind = rnd.choice(["sub", "del", "ins", "swap"])
        if kind == "sub":
            word = word[:i] + rnd.choice(letters.replace(word[i], "")) + word[i + 1 :]
        elif kind == "del":
            word = word[:i] + word[i + 1 :]
        elif kind == "ins":
            word = word[:i] + rnd.choice(letters) + word[i:]
        else:
            word = word[: i - 1] + word[i] + word[i - 1] + word[i + 1 :]
    return word


async def test_random_typos_of_real_names_find_the_city(
    client: httpx.AsyncClient, names: list[tuple[int, str, int]]
) -> None:
    """200 one- and two-edit typos of real names (cities of 100,000+, plain ASCII names).

    The edits stay within the bound (two only for typos longer than five
    characters) and off the first letter, as a typist's typos mostly are.
    """
    rnd = random.Random(2026)
    pool = [(g, n) for g, n, p in names if p >= 100_000 and n.isascii() and n.isalpha()]
    pool = [(g, n) for g, n in pool if len(n) >= 5]
    tried = found = 0
    while tried < 200:
        gid, name = rnd.choice(pool)
        edits = rnd.choice([1, 2])
        typo = _typo(fold(name), edits, rnd)
        if typo == fold(name) or (edits == 2 and len(typo) <= 5):
            continue
        tried += 1
        body = (await client.get("/cities", params={"q": typo, "fuzzy": "true"})).json()
        found += gid in {i["geonameid"] for i in body["items"]}
    assert found >= 190, f"{found} of {tried}"


async def test_near_puts_the_nearest_darwin_first(client: httpx.AsyncClient) -> None:
    body = (await client.get("/cities", params={"q": "darwin", "near": "-12.46,130.84"})).json()
    first = body["items"][0]
    assert first["geonameid"] == DARWIN_AU and first["distance_km"] < 5
    assert all("distance_km" in i for i in body["items"]) and body["total"] == 3
    far = (await client.get("/cities", params={"q": "darwin", "near": "-39.2,-65.7"})).json()
    assert far["items"][0]["country_code"] == "AR"
    by_km = (
        await client.get("/cities", params={"q": "san", "near": "40.4,-3.7", "order": "distance"})
    ).json()
    km = [i["distance_km"] for i in by_km["items"]]
    assert km == sorted(km) and by_km["items"][0]["country_code"] == "ES"


async def test_near_blends_population_in(client: httpx.AsyncClient) -> None:
    # Near Berlin: the blend may prefer a bigger city a little farther away, pure distance not.
    blend = (await client.get("/cities", params={"q": "ber", "near": "52.52,13.40"})).json()
    pure = (
        await client.get("/cities", params={"q": "ber", "near": "52.52,13.40", "order": "distance"})
    ).json()
    assert blend["items"][0]["name"] == "Berlin"
    assert {i["geonameid"] for i in blend["items"]} != {i["geonameid"] for i in pure["items"]}


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"q": "darwin", "near": "91,0"}, "near"),
        ({"q": "darwin", "near": "0,181"}, "near"),
        ({"q": "darwin", "near": "north"}, "near"),
        ({"q": "darwin", "near": "1,2,3"}, "near"),
        ({"q": "darwin", "order": "distance"}, "order"),
        ({"q": "darwin", "fuzzy": "maybe"}, "fuzzy"),
        ({"q": "darwin", "alt": "true", "fuzzy": "true"}, "alt"),
    ],
)
async def test_bad_near_and_fuzzy_are_422_problems(
    client: httpx.AsyncClient, params: dict[str, str], field: str
) -> None:
    r = await client.get("/cities", params=params)
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    assert any(e["loc"][-1] == field for e in r.json()["errors"])


async def test_the_page_says_which_rows_are_close_spellings(client: httpx.AsyncClient) -> None:
    r = await client.get("/search.php", params={"searchFor": "darwn"})
    assert "No city matches exactly" in r.text and "<th>Match</th>" in r.text
    assert "<td>Australia</td><td>Darwin</td>" in r.text and "close spelling (1 edit)" in r.text
    r = await client.get("/", params={"searchFor": "paris", "fuzzy": "true"})
    assert "<td>exact</td>" in r.text and "close spelling" in r.text and " checked>" in r.text
    r = await client.get("/", params={"searchFor": "darwin"})
    assert "<th>Match</th>" not in r.text and "3 cities" in r.text


async def test_openapi_documents_fuzzy_near_and_the_new_fields(client: httpx.AsyncClient) -> None:
    doc = (await client.get("/openapi.json")).json()
    params = {p["name"] for p in doc["paths"]["/cities"]["get"]["parameters"]}
    assert params == {"q", "country", "limit", "offset", "order", "alt", "format", "fuzzy", "near"}
    city = doc["components"]["schemas"]["City"]["properties"]
    assert {"distance_km", "edits"} <= city.keys()
    assert "fuzzy" in doc["components"]["schemas"]["CitiesPage"]["properties"]
    assert "distance" in doc["components"]["schemas"]["Order"]["enum"]


async def test_a_reload_shows_within_5_s_and_no_request_fails(
    mariadb: MariaDB, database: str, tmp_path: Path
) -> None:
    params = conn_params(mariadb, database)
    count_sql = "SELECT COUNT(*) FROM city_search WHERE folded LIKE 'a%'"
    await load_world(params, Source(*write_real_pair(tmp_path / "small", 1000)))
    before = int(mariadb.sql(count_sql, database=database))
    app = create_app(settings_for(mariadb, database))
    async with app.router.lifespan_context(app), await _client(app) as client:
        await app.state.holder.wait_for(lambda ix: ix.size == 1000, timeout=60)

        async def total() -> int:
            r = await client.get("/cities", params={"q": "a", "limit": 1, "fuzzy": "false"})
            statuses.append(r.status_code)
            return int(r.json()["total"]) if r.status_code == 200 else -1

        statuses: list[int] = []
        stop = asyncio.Event()

        async def ask() -> None:
            while not stop.is_set():
                await total()
                await asyncio.sleep(0.005)

        asker = asyncio.create_task(ask())
        assert await total() == before
        await load_world(params, Source(*write_real_pair(tmp_path / "large", 2000)))
        swapped = time.monotonic()
        after = int(mariadb.sql(count_sql, database=database))
        assert after != before
        while await total() != after:
            assert time.monotonic() < swapped + 5, "the reload did not show within 5 s"
            await asyncio.sleep(0.05)
        stop.set()
        await asker
        assert len(statuses) > 10 and set(statuses) == {200}
        assert app.state.holder.index.size == 2000
