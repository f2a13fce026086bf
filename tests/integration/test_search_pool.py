"""Pool hygiene on the real MariaDB: cancellation, exhaustion, the database going away."""

import asyncio
import contextlib
import random
import socket
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import uvicorn

from searchapi.app import create_app
from searchapi.errors import DatabaseUnavailable, PoolExhausted
from searchapi.fold import fold
from searchapi.pool import Pool, fetchall
from searchapi.settings import Settings
from tests.harness import MariaDB

pytestmark = pytest.mark.integration


def _settings(mariadb: MariaDB, database: str, **extra: Any) -> Settings:
    base: dict[str, Any] = {
        "db_host": mariadb.host,
        "db_port": mariadb.port,
        "db_user": mariadb.user,
        "db_password": mariadb.password,
        "db_name": database,
    }
    return Settings(**{**base, **extra})


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.asynccontextmanager
async def serve(settings: Settings) -> AsyncIterator[str]:
    """The app on a real uvicorn server on 127.0.0.1 (real disconnects)."""
    port = _free_port()
    config = uvicorn.Config(
        create_app(settings), host="127.0.0.1", port=port, log_level="warning", lifespan="on"
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 -- uvicorn offers a flag, no event
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


async def test_cancelled_query_closes_its_connection(mariadb: MariaDB, database: str) -> None:
    pool = Pool(_settings(mariadb, database, pool_size=1))
    slow = asyncio.create_task(pool.run(lambda c: fetchall(c, "SELECT SLEEP(2), 'stale'")))
    await asyncio.sleep(0.2)
    slow.cancel()
    with pytest.raises(asyncio.CancelledError):
        await slow
    assert pool.open == 0  # closed, not returned
    assert await pool.fetch("SELECT %s", ("fresh",)) == [("fresh",)]
    assert pool.open == 1
    await pool.close()


async def test_exhausted_pool_is_an_error_not_a_hang(mariadb: MariaDB, database: str) -> None:
    pool = Pool(_settings(mariadb, database, pool_size=1, pool_acquire_timeout=0.2))
    busy = asyncio.create_task(pool.fetch("SELECT SLEEP(1)"))
    await asyncio.sleep(0.1)
    with pytest.raises(PoolExhausted):
        await pool.fetch("SELECT 1")
    await busy
    assert await pool.fetch("SELECT 1") == [(1,)]
    await pool.close()


@pytest.mark.parametrize("mode", ["sql", "memory", "alt"])
async def test_cancelled_requests_never_leak_rows(
    mariadb: MariaDB, world_database: str, mode: str
) -> None:
    """A storm of requests, half cancelled mid-way, answered by SQL, from memory, or both.

    sql: no in-process index. memory: the index answers. alt: the index is
    loaded but alt=true queries go to MariaDB.
    """
    settings = _settings(
        mariadb,
        world_database,
        pool_size=2,
        memory_index=mode != "sql",
        pool_acquire_timeout=30.0,  # a slow machine queues; exhaustion has its own test
    )
    rnd = random.Random(11)
    words = ["ber", "darwin", "san", "ville", "burg", "paris", "ton", "ham", "sao", "kir", "lin"]
    extra = {"alt": "true"} if mode == "alt" else {}
    async with serve(settings) as url, httpx.AsyncClient(base_url=url, timeout=30) as client:
        deadline = asyncio.get_running_loop().time() + 120
        while (await client.get("/readyz")).status_code != 200:
            assert asyncio.get_running_loop().time() < deadline, "not ready in 120 s"
            await asyncio.sleep(0.1)

        async def one(q: str) -> tuple[str, dict[str, Any]]:
            params: dict[str, str | int] = {"q": q, "limit": 100, "order": "relevance", **extra}
            r = await client.get("/cities", params=params)
            assert r.status_code == 200, r.text
            return q, r.json()

        tasks = [asyncio.create_task(one(rnd.choice(words))) for _ in range(150)]
        for i, task in enumerate(tasks):
            if i % 2:
                # Spread over 1.5 s: on a loaded machine the server may not even have
                # read a request cancelled in its first 0.3 s, and then sees no request.
                asyncio.get_running_loop().call_later(rnd.uniform(0.05, 1.5), task.cancel)
        done = await asyncio.gather(*tasks, return_exceptions=True)
        completed = [d for d in done if isinstance(d, tuple)]
        cancelled = [d for d in done if isinstance(d, asyncio.CancelledError)]
        assert completed and cancelled
        for q, body in completed:
            assert body["query"] == q
            if mode != "alt":
                for item in body["items"]:
                    assert q in fold(item["name"]), (q, item["name"])
        # After the storm the service still answers, and correctly.
        _, body = await one("darwin")
        assert [i["name"] for i in body["items"]] == ["Darwin", "Darwin", "Mount Darwin"]
        metrics = (await client.get("/metrics")).text
        assert "searchapi_db_pool_in_use 0.0" in metrics
        if mode != "memory":
            # The server saw clients leave mid-query and cancelled that work. (An
            # answer from memory never waits, so there is nothing to cancel.)
            assert 'route="/cities",status="499"' in metrics, metrics


class Proxy:
    """A TCP proxy on 127.0.0.1 to MariaDB that the test can cut and restore."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = _free_port()
        self.server: asyncio.Server | None = None
        self.writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)

    async def stop(self) -> None:
        assert self.server is not None
        self.server.close()
        for w in list(self.writers):
            w.close()
        await self.server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        self.writers |= {writer, up_writer}

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError):
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))


@pytest.mark.parametrize("memory", [False, True])
async def test_database_down_is_503_then_recovers(
    mariadb: MariaDB, world_database: str, memory: bool
) -> None:
    """Without the database: 503s, except name searches the in-process index still answers."""
    proxy = Proxy(mariadb.port)
    await proxy.start()
    settings = _settings(
        mariadb,
        world_database,
        db_port=proxy.port,
        connect_timeout=1.0,
        query_timeout=3.0,
        memory_index=memory,
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        if memory:
            await app.state.holder.wait_for(lambda ix: True, timeout=120)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://search") as client:
            assert (await client.get("/cities", params={"q": "darwin"})).status_code == 200
            await proxy.stop()
            down = ["/cities?q=darwin&alt=true", "/readyz"]
            if not memory:
                down.append("/cities?q=darwin")
            for path in down:
                r = await client.get(path)
                assert r.status_code == 503, r.text
                assert r.headers["content-type"] == "application/problem+json"
                assert r.json()["title"] == "Database unavailable"
            if memory:  # the last data loaded keeps being served
                r = await client.get("/cities", params={"q": "darwin"})
                assert r.status_code == 200 and r.json()["total"] == 3
            await proxy.start()
            r = await client.get("/cities", params={"q": "darwin", "alt": "true"})
            assert r.status_code == 200 and r.json()["total"] >= 3
    await proxy.stop()


async def test_pool_translates_connection_failures(mariadb: MariaDB, database: str) -> None:
    pool = Pool(_settings(mariadb, database, db_port=_free_port(), connect_timeout=1.0))
    with pytest.raises(DatabaseUnavailable):
        await pool.fetch("SELECT 1")
    assert pool.in_use == 0
