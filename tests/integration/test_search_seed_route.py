"""The bench's seed route answers as the seed's page did: case-insensitive, full scan."""

import httpx

from searchapi.app import create_app
from tests.harness import MariaDB
from tests.integration.test_search_api import settings_for


async def test_seed_query_matches_case_insensitively_like_the_seed(
    mariadb: MariaDB, world_database: str
) -> None:
    app = create_app(settings_for(mariadb, world_database, bench_endpoints=True))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            answers = [
                (await client.get("/bench/seed", params={"q": q})).json()
                for q in ("darwin", "DARWIN")
            ]
    for body in answers:
        assert [(i["country"], i["name"]) for i in body["items"]] == [
            ("Argentina", "Darwin"),
            ("Australia", "Darwin"),
            ("Zimbabwe", "Mount Darwin"),
        ]
