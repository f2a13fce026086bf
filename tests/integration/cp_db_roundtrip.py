"""The control plane on a server database (MariaDB, PostgreSQL): one shared round trip."""

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from controlplane.server.models.common import utcnow
from controlplane.server.services.retention import Retention, prune_events
from tests.unit.cp_app import control_plane
from tests.unit.test_cp_db import migration_head

TABLES = {"alembic_version", "hosts", "networks", "containers", "links", "events"}


def round_trip(tmp_path: Path, url: str, sql: Callable[[str], str], tables_query: str) -> None:
    """Migrations, API writes converged, a restart on the same state, event pruning.

    sql runs a statement on the test database and returns psql/mariadb batch output;
    tables_query lists the database's tables, one a line.
    """
    with control_plane(tmp_path, url) as cp:
        assert not (tmp_path / "weft.db").exists()
        hid, _agent = cp.add_host()
        cp.client.post("/networks", json={"name": "n1", "host_id": hid, "subnet": "10.5.0.0/24"})
        r = cp.client.post(
            "/containers?wait=true",
            json={
                "name": "c1",
                "host_id": hid,
                "image": "img",
                "env": {"K": "v"},
                "networks": [{"network": "n1", "aliases": ["x"]}],
            },
        )
        assert r.status_code == 201 and r.json()["status"] == "converged", r.text
        assert r.json()["observed"]["addresses"]["n1"].startswith("10.5.0.")
        assert cp.client.get("/hosts").json()[0]["last_seen"].endswith("Z")
    assert set(sql(tables_query).split()) >= TABLES
    assert sql("SELECT version_num FROM alembic_version").strip() == migration_head()
    # A second start on the same database finds the schema at head and the same token.
    # Its agents stay up meanwhile: a host that stopped answering would record events
    # while the prune counts below run.
    with control_plane(tmp_path, url, cp.agents) as cp2:
        assert cp2.token == cp.token
        assert [c["name"] for c in cp2.client.get("/containers").json()] == ["c1"]
        # Event retention: by count, then by age (all but the newest go).
        sessions = cp2.client.app.state.weft.sessions  # type: ignore[attr-defined]

        async def prune(retention: Retention, ahead: timedelta) -> int:
            async with sessions() as session:
                return await prune_events(session, retention, utcnow() + ahead)

        # h1's agent answers in this second run too and c1 has converged: the reconciler
        # records no event, so none lands between the list below and the prunes.
        before = cp2.client.get("/events").json()
        assert len(before) >= 3
        portal = cp2.client.portal
        assert portal is not None
        assert portal.call(prune, Retention(2, None), timedelta(0)) == len(before) - 2
        assert portal.call(prune, Retention(None, timedelta(hours=1)), timedelta(0)) == 0
        assert portal.call(prune, Retention(None, timedelta(hours=1)), timedelta(days=1)) == 1
        assert len(cp2.client.get("/events").json()) == 1
        # Ids never come back (SSE clients resume by id): even with the events table
        # emptied behind the server's back (SQLite would reuse ids here), new ones are larger.
        sql("DELETE FROM events")
        cp2.add_host("h2")
        new = cp2.client.get("/events", params={"after": before[-1]["id"]}).json()
        assert new and all(e["id"] > before[-1]["id"] for e in new), (before[-1], new)
