"""The control plane on MariaDB through DATABASE_URL: migrations and a full round trip."""

from datetime import timedelta

import pytest

from controlplane.models.common import utcnow
from controlplane.services.retention import Retention, prune_events
from tests.harness import MariaDB
from tests.unit.cp_app import control_plane

pytestmark = pytest.mark.integration


def test_control_plane_runs_on_mariadb(tmp_path, mariadb: MariaDB, database: str) -> None:
    url = f"mysql://{mariadb.user}:{mariadb.password}@{mariadb.host}:{mariadb.port}/{database}"
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
    tables = mariadb.sql("SHOW TABLES", database).split()
    assert {"alembic_version", "hosts", "networks", "containers", "links", "events"} <= set(tables)
    assert mariadb.sql("SELECT version_num FROM alembic_version", database).strip() == "0001"
    # A second start on the same database finds the schema at head and the same token.
    with control_plane(tmp_path, url) as cp2:
        assert cp2.token == cp.token
        assert [c["name"] for c in cp2.client.get("/containers").json()] == ["c1"]
        # Event retention on MariaDB: by count, then by age (all but the newest go).
        sessions = cp2.client.app.state.weft.sessions  # type: ignore[attr-defined]

        async def prune(retention: Retention, ahead: timedelta) -> int:
            async with sessions() as session:
                return await prune_events(session, retention, utcnow() + ahead)

        count = len(cp2.client.get("/events").json())
        assert count >= 3
        portal = cp2.client.portal
        assert portal is not None
        assert portal.call(prune, Retention(2, None), timedelta(0)) == count - 2
        assert portal.call(prune, Retention(None, timedelta(hours=1)), timedelta(0)) == 0
        assert portal.call(prune, Retention(None, timedelta(hours=1)), timedelta(days=1)) == 1
        assert len(cp2.client.get("/events").json()) == 1
