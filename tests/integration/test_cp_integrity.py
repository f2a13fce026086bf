"""Only a duplicate key becomes "409 concurrent change"; other integrity errors stay bugs.

On SQLite, MariaDB and PostgreSQL alike: a write the services' checks let through
hits the database's unique constraint (the race the 409 is for), a foreign key, or a
NOT NULL column. The last two must surface as 500 and be raised, not answered as 409.
"""

from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from controlplane.server.app import create_app
from controlplane.server.models import Host, Network
from controlplane.server.models.common import utcnow
from tests.harness import MariaDB, Postgres
from tests.unit.cp_app import fast_settings
from tests.unit.cp_fake_agent import TOKEN, Agents

pytestmark = pytest.mark.integration

Write = Callable[[AsyncSession], Awaitable[None]]


async def duplicate_host_name(session: AsyncSession) -> None:
    session.add(Host(name="h1", agent_url="http://elsewhere:7000", agent_token=TOKEN))


async def network_of_no_host(session: AsyncSession) -> None:
    session.add(Network(name="n1", host_id=424242, subnet="10.9.0.0/24", gateway="10.9.0.1"))


async def event_without_resource(session: AsyncSession) -> None:
    insert = "INSERT INTO events (resource, action, result, at) VALUES (NULL, 'a', 'ok', :at)"
    await session.exec(text(insert).bindparams(at=utcnow()))  # type: ignore[call-overload]


WRITES: dict[str, Write] = {
    "duplicate": duplicate_host_name,
    "foreign-key": network_of_no_host,
    "not-null": event_without_resource,
}


def add_write_routes(app: FastAPI) -> None:
    """POST /test-write/{case}: commit that case's write in a session of the app's."""

    async def route(case: str, request: Request) -> dict[str, str]:
        async with request.app.state.weft.sessions() as session:
            await WRITES[case](session)
            await session.commit()
        return {}

    app.add_api_route("/test-write/{case}", route, methods=["POST"])


def check_integrity_errors(tmp_path: Path, url: str | None) -> None:
    agents = Agents()
    agents.add("h1")
    app = create_app(fast_settings(tmp_path, url), agents.transport())
    add_write_routes(app)
    with TestClient(app, raise_server_exceptions=False) as client:
        token = (tmp_path / "admin.token").read_text().strip()
        client.headers["Authorization"] = f"Bearer {token}"
        host = {"name": "h1", "agent_url": "http://h1:7000", "agent_token": TOKEN}
        assert client.post("/hosts", json=host).status_code == 201

        r = client.post("/test-write/duplicate")
        assert r.status_code == 409, r.text
        assert r.json()["detail"] == "conflicts with a concurrent change; retry the request"
        for case in ("foreign-key", "not-null"):
            r = client.post(f"/test-write/{case}")
            assert r.status_code == 500, (case, r.text)
            assert r.json()["title"] == "Internal server error"
            assert r.json()["detail"] == "unexpected IntegrityError"
        # Nothing of the refused writes was stored.
        assert [h["name"] for h in client.get("/hosts").json()] == ["h1"]
        assert client.get("/networks").json() == []
    # Raised, not swallowed: the server logs it as an unexpected error.
    with TestClient(app) as client, pytest.raises(IntegrityError):
        client.post("/test-write/foreign-key")


def test_integrity_errors_on_sqlite(tmp_path: Path) -> None:
    check_integrity_errors(tmp_path, None)


def test_integrity_errors_on_mariadb(tmp_path: Path, mariadb: MariaDB, database: str) -> None:
    url = f"mysql://{mariadb.user}:{mariadb.password}@{mariadb.host}:{mariadb.port}/{database}"
    check_integrity_errors(tmp_path, url)


def test_integrity_errors_on_postgres(tmp_path: Path, postgres: Postgres, pg_database: str) -> None:
    check_integrity_errors(tmp_path, postgres.url(pg_database))
