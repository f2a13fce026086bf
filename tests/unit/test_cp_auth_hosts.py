"""Control plane: API auth, problem+json, host registration and removal (fake agents)."""

import logging
import stat

from controlplane.server.auth import create_token
from tests.unit.cp_app import control_plane
from tests.unit.cp_fake_agent import TOKEN


def test_admin_token_file_is_private_and_never_logged(tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    with control_plane(tmp_path) as cp:
        mode = stat.S_IMODE(cp.settings.admin_token_file.stat().st_mode)
        assert mode == 0o600
        assert len(cp.token) >= 32
        assert cp.client.get("/hosts").status_code == 200
    assert all(cp.token not in r.getMessage() for r in caplog.records)
    # A restart keeps the token (not regenerated, still accepted).
    with control_plane(tmp_path) as cp2:
        assert cp2.token == cp.token
        assert cp2.client.get("/hosts").status_code == 200


def test_missing_and_wrong_tokens_are_rejected_as_problem_json(tmp_path):
    with control_plane(tmp_path) as cp:
        for headers in (
            {"Authorization": ""},
            {"Authorization": "Bearer nope"},
            {"Authorization": f"Basic {cp.token}"},
        ):
            r = cp.client.get("/hosts", headers=headers)
            assert r.status_code == 401, headers
            assert r.headers["content-type"] == "application/problem+json"
            assert r.json()["status"] == 401
            assert r.headers["www-authenticate"] == "Bearer"
        assert cp.client.get("/healthz", headers={"Authorization": ""}).status_code == 200


def test_reader_token_may_read_but_not_write(tmp_path):
    with control_plane(tmp_path) as cp:
        state = cp.client.app.state.weft  # type: ignore[attr-defined]

        async def make() -> str:
            async with state.sessions() as session:
                return await create_token(session, "ro", "reader")

        reader = cp.client.portal.call(make)  # type: ignore[union-attr]
        h = {"Authorization": f"Bearer {reader}"}
        assert cp.client.get("/containers", headers=h).status_code == 200
        r = cp.client.post(
            "/hosts", headers=h, json={"name": "x", "agent_url": "http://x:1", "agent_token": "t"}
        )
        assert r.status_code == 403
        assert r.headers["content-type"] == "application/problem+json"


def test_register_host_verifies_the_agent(tmp_path):
    with control_plane(tmp_path) as cp:
        cp.agents.add("h1")
        body = {"name": "h1", "agent_url": "http://h1:7000", "agent_token": "wrong"}
        r = cp.client.post("/hosts", json=body)
        assert r.status_code == 422
        assert r.json()["errors"][0]["loc"] == ["body", "agent_token"]
        r = cp.client.post(
            "/hosts", json={**body, "agent_url": "http://nowhere:7000", "agent_token": TOKEN}
        )
        assert r.status_code == 422
        assert r.json()["errors"][0]["loc"] == ["body", "agent_url"]
        assert cp.client.get("/hosts").json() == []  # nothing stored
        r = cp.client.post("/hosts", json={**body, "agent_token": TOKEN})
        assert r.status_code == 201
        host = r.json()
        assert host["status"] == "ready" and host["hostname"] == "h1"
        assert host["docker_version"] == "20.10" and host["last_seen"]
        assert "agent_token" not in host
        r = cp.client.post("/hosts", json={**body, "agent_token": TOKEN})
        assert r.status_code == 409 and r.json()["errors"][0]["loc"] == ["body", "name"]


def test_request_validation_errors_name_the_field(tmp_path):
    with control_plane(tmp_path) as cp:
        r = cp.client.post("/hosts", json={"name": "bad name!", "agent_url": "nope"})
        assert r.status_code == 422
        assert r.headers["content-type"] == "application/problem+json"
        locs = {tuple(e["loc"]) for e in r.json()["errors"]}
        assert {("body", "name"), ("body", "agent_url"), ("body", "agent_token")} <= locs
        assert cp.client.get("/hosts/999").status_code == 404


def test_heartbeat_marks_host_unreachable_and_ready_again(tmp_path):
    with control_plane(tmp_path) as cp:
        hid, agent = cp.add_host()
        agent.down = True
        runner = cp.client.app.state.weft.reconcilers.runners[hid]  # type: ignore[attr-defined]
        assert cp.client.portal.call(runner.next_pass, 5.0)  # type: ignore[union-attr]
        host = cp.client.get(f"/hosts/{hid}").json()
        assert host["status"] == "unreachable" and "unreachable" in host["status_reason"]
        seen = host["last_seen"]
        agent.down = False
        assert cp.client.portal.call(runner.next_pass, 5.0)  # type: ignore[union-attr]
        host = cp.client.get(f"/hosts/{hid}").json()
        assert host["status"] == "ready" and host["last_seen"] > seen
        events = cp.client.get("/events", params={"resource": "host"}).json()
        assert [e["result"] for e in events if e["action"] == "heartbeat"][-2:] == ["failed", "ok"]


def test_delete_host_refuses_with_containers_unless_forced(tmp_path):
    with control_plane(tmp_path) as cp:
        hid, agent = cp.add_host()
        r = cp.client.post(
            "/containers?wait=true", json={"name": "c1", "host_id": hid, "image": "img"}
        )
        assert r.json()["status"] == "converged"
        assert list(agent.containers) == ["c1"]
        r = cp.client.delete(f"/hosts/{hid}")
        assert r.status_code == 409 and "c1" in r.json()["detail"]
        agent.down = True
        assert cp.client.delete(f"/hosts/{hid}?force=true").status_code == 503
        assert cp.client.get(f"/hosts/{hid}").status_code == 200  # nothing forgotten
        agent.down = False
        assert cp.client.delete(f"/hosts/{hid}?force=true").status_code == 204
        assert agent.containers == {}
        assert cp.client.get(f"/hosts/{hid}").status_code == 404
        assert cp.client.get("/containers").json() == []


def test_a_dead_host_is_forgotten_only_when_asked_and_its_strays_go_if_it_returns(tmp_path):
    with control_plane(tmp_path) as cp:
        hid, agent = cp.add_host()
        r = cp.client.post(
            "/containers?wait=true", json={"name": "c1", "host_id": hid, "image": "img"}
        )
        assert r.json()["status"] == "converged"
        agent.down = True
        r = cp.client.delete(f"/hosts/{hid}?forget=true")
        assert r.status_code == 422 and r.json()["errors"][0]["loc"] == ["query", "forget"]
        r = cp.client.delete(f"/hosts/{hid}?force=true")
        assert r.status_code == 503 and "forget=true" in r.json()["detail"]
        assert cp.client.delete(f"/hosts/{hid}?force=true&forget=true").status_code == 204
        assert cp.client.get(f"/hosts/{hid}").status_code == 404
        assert cp.client.get("/containers").json() == []
        removed = cp.client.get("/events", params={"resource": "host"}).json()
        assert [e["reason"] for e in removed if e["action"] == "remove"] == ["forgotten"]
        assert list(agent.containers) == ["c1"]  # still on the dead host, labelled ours

        agent.down = False  # the host comes back and is registered again
        r = cp.client.post(
            "/hosts", json={"name": "h1", "agent_url": "http://h1:7000", "agent_token": TOKEN}
        )
        assert r.status_code == 201, r.text
        runner = cp.client.app.state.weft.reconcilers.runners[r.json()["id"]]  # type: ignore[attr-defined]
        assert cp.client.portal.call(runner.next_pass, 5.0)  # type: ignore[union-attr]
        assert agent.containers == {}  # the stray was removed


def test_delete_host_removes_its_networks_and_forgets_a_dead_empty_host(tmp_path):
    with control_plane(tmp_path) as cp:
        hid, agent = cp.add_host()
        r = cp.client.post(
            "/networks?wait=true", json={"name": "n1", "host_id": hid, "subnet": "10.9.0.0/24"}
        )
        assert r.json()["status"] == "converged" and "n1" in agent.networks
        agent.down = True
        assert cp.client.delete(f"/hosts/{hid}").status_code == 503  # n1 would be orphaned
        agent.down = False
        assert cp.client.delete(f"/hosts/{hid}").status_code == 204
        assert agent.networks == {}
        hid2, agent2 = cp.add_host("h2")
        agent2.down = True
        assert cp.client.delete(f"/hosts/{hid2}").status_code == 204  # nothing recorded there


def test_openapi_docs_describe_how_links_stay_current(tmp_path):
    with control_plane(tmp_path) as cp:
        assert cp.client.get("/docs", headers={"Authorization": ""}).status_code == 200
        info = cp.client.get("/info").json()
        assert info["owner"].startswith("weft-cp-") and info["version"]
        assert cp.client.get("/info", headers={"Authorization": ""}).status_code == 401
        spec = cp.client.get("/openapi.json").json()
        post_links = spec["paths"]["/links"]["post"]["description"]
        assert "/etc/hosts" in post_links and "links.env" in post_links
        assert {"/hosts", "/networks", "/containers", "/links", "/events", "/events/stream"} <= set(
            spec["paths"]
        )


def test_a_host_registered_again_after_delete_is_reconciled(tmp_path):
    with control_plane(tmp_path) as cp:
        hid, _ = cp.add_host()
        assert cp.client.delete(f"/hosts/{hid}").status_code == 204
        hid2, agent = cp.add_host("h1")  # SQLite may hand out the same id again
        r = cp.client.post(
            "/containers?wait=true", json={"name": "c", "host_id": hid2, "image": "img"}
        )
        assert r.json()["status"] == "converged" and list(agent.containers) == ["c"]
