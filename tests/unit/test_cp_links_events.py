"""Control plane: links stay current, events list and stream (fake agents)."""

import json

from tests.unit.cp_app import control_plane


def _ctr(cp, hid, name, **extra):
    body = {"name": name, "host_id": hid, "image": "img", "networks": [{"network": "n1"}], **extra}
    r = cp.client.post("/containers?wait=true", json=body)
    assert r.status_code == 201, r.text
    return r.json()


def test_link_env_hosts_and_following_a_restart(tmp_path):
    with control_plane(tmp_path) as cp:
        hid, agent = cp.add_host()
        cp.client.post("/networks", json={"name": "n1", "host_id": hid, "subnet": "10.40.0.0/24"})
        web = _ctr(cp, hid, "MYWEB")
        # `to` does not exist yet on the host: record it without waiting.
        db = cp.client.post(
            "/containers",
            json={
                "name": "MYDB",
                "host_id": hid,
                "image": "img",
                "exposed_ports": ["3306/tcp"],
                "networks": [{"network": "n1"}],
            },
        ).json()
        r = cp.client.post(
            "/links?wait=true", json={"from": web["id"], "to": db["id"], "alias": "MYDB"}
        )
        assert r.status_code == 201, r.text
        link = r.json()
        assert link["from"] == web["id"] and link["to"] == db["id"]
        addr = cp.client.get(f"/containers/{db['id']}").json()["observed"]["addresses"]["n1"]
        link = cp.client.get(f"/links/{link['id']}").json()
        assert link["address"] == addr
        assert link["env"]["MYDB_PORT_3306_TCP_ADDR"] == addr
        assert link["env"]["MYDB_PORT"] == f"tcp://{addr}:3306"
        assert link["env"]["MYDB_PORT_3306_TCP"] == f"tcp://{addr}:3306"
        assert link["env"]["MYDB_PORT_3306_TCP_PORT"] == "3306"
        assert link["env"]["MYDB_PORT_3306_TCP_PROTO"] == "tcp"
        assert link["env"]["MYDB_NAME"] == "/MYWEB/MYDB"
        pushed = agent.links["MYWEB"]
        assert [(t.alias, t.name, t.address) for t in pushed] == [("MYDB", "MYDB", addr)]
        web_id = agent.containers["MYWEB"].id
        # DB gets a new address: the link follows, MYWEB is not recreated.
        r = cp.client.post(f"/containers/{db['id']}/restart?wait=true")
        moved = r.json()["observed"]["addresses"]["n1"]
        assert moved != addr
        runner = cp.client.app.state.weft.reconcilers.runners[hid]  # type: ignore[attr-defined]
        cp.client.portal.call(runner.next_pass, 5.0)  # type: ignore[union-attr]
        assert agent.links["MYWEB"][0].address == moved
        assert agent.containers["MYWEB"].id == web_id
        assert (
            cp.client.get(f"/links/{link['id']}").json()["env"]["MYDB_PORT_3306_TCP_ADDR"] == moved
        )
        links_events = cp.client.get("/events", params={"action": "links"}).json()
        assert links_events and links_events[-1]["resource_name"] == "MYWEB"


def test_circular_links_and_validation(tmp_path):
    with control_plane(tmp_path) as cp:
        hid, agent = cp.add_host()
        cp.client.post("/networks", json={"name": "n1", "host_id": hid, "subnet": "10.40.0.0/24"})
        a, b = _ctr(cp, hid, "a", exposed_ports=["80"]), _ctr(cp, hid, "b")
        assert (
            cp.client.post(
                "/links", json={"from": a["id"], "to": b["id"], "alias": "bee"}
            ).status_code
            == 201
        )
        r = cp.client.post("/links?wait=true", json={"from": b["id"], "to": a["id"], "alias": "ay"})
        assert r.status_code == 201
        runner = cp.client.app.state.weft.reconcilers.runners[hid]  # type: ignore[attr-defined]
        cp.client.portal.call(runner.next_pass, 5.0)  # type: ignore[union-attr]
        assert agent.links["a"][0].alias == "bee" and agent.links["b"][0].alias == "ay"
        assert agent.links["b"][0].ports[0].port == 80
        r = cp.client.post("/links", json={"from": a["id"], "to": b["id"], "alias": "bee"})
        assert r.status_code == 409 and r.json()["errors"][0]["loc"] == ["body", "alias"]
        r = cp.client.post("/links", json={"from": 999, "to": b["id"], "alias": "x"})
        assert r.status_code == 422 and r.json()["errors"][0]["loc"] == ["body", "from"]
        r = cp.client.post("/links", json={"from": a["id"], "to": a["id"], "alias": "x"})
        assert r.status_code == 422
        # Deleting `to` drops its links.
        assert cp.client.delete(f"/containers/{b['id']}?wait=true").status_code == 204
        assert cp.client.get("/links").json() == []
        cp.client.portal.call(runner.next_pass, 5.0)  # type: ignore[union-attr]
        assert agent.links["a"] == []


def test_event_list_filters_and_sse_stream(tmp_path):
    with control_plane(tmp_path) as cp:
        hid, _ = cp.add_host()
        first = cp.client.get("/events").json()
        assert first[0]["resource"] == "host" and first[0]["action"] == "register"
        cp.client.post(
            "/networks?wait=true", json={"name": "n1", "host_id": hid, "subnet": "10.40.0.0/24"}
        )
        got = []
        with cp.client.stream("GET", "/events/stream", params={"after": 0}) as r:
            assert r.status_code == 200
            assert r.headers["content-type"].startswith("text/event-stream")
            for line in r.iter_lines():
                if line.startswith("data: "):
                    got.append(json.loads(line[6:]))
                if any(e["resource"] == "network" for e in got):
                    break
        assert got[0]["action"] == "register"
        assert any(e["resource"] == "network" and e["action"] == "create" for e in got)
        only = cp.client.get("/events", params={"resource": "network", "host_id": hid}).json()
        assert only and all(e["resource"] == "network" for e in only)
        assert cp.client.get("/events", params={"limit": 0}).status_code == 422


def test_links_given_with_the_container_are_in_its_first_spec(tmp_path):
    with control_plane(tmp_path) as cp:
        hid, agent = cp.add_host()
        cp.client.post("/networks", json={"name": "n1", "host_id": hid, "subnet": "10.40.0.0/24"})
        db = _ctr(cp, hid, "db", exposed_ports=["3306"])
        r = cp.client.post(
            "/containers",
            json={
                "name": "web",
                "host_id": hid,
                "image": "img",
                "links": [{"to": db["id"], "alias": "MYDB"}, {"to": 999, "alias": "X"}],
            },
        )
        assert r.status_code == 422 and r.json()["errors"][0]["loc"] == ["body", "links", 1, "to"]
        assert [c["name"] for c in cp.client.get("/containers").json()] == ["db"]
        web = _ctr(cp, hid, "web", links=[{"to": db["id"], "alias": "MYDB"}])
        addr = db["observed"]["addresses"]["n1"]
        # Created with the link set, like `docker run --link`: no separate push needed.
        assert [(t.alias, t.address) for t in agent.specs["web"].links] == [("MYDB", addr)]
        links = cp.client.get("/links", params={"container_id": web["id"]}).json()
        assert [(k["from"], k["to"], k["alias"]) for k in links] == [(web["id"], db["id"], "MYDB")]
        assert ("PUT", "/v1/containers/web/links") not in agent.calls


def test_a_link_to_a_container_on_another_host_follows_it(tmp_path):
    with control_plane(tmp_path) as cp:
        h1, a1 = cp.add_host("h1")
        h2, _ = cp.add_host("h2")
        db = cp.client.post(
            "/containers?wait=true",
            json={"name": "db", "host_id": h2, "image": "img", "exposed_ports": ["5432"]},
        ).json()
        web = cp.client.post(
            "/containers?wait=true",
            json={
                "name": "web",
                "host_id": h1,
                "image": "img",
                "links": [{"to": db["id"], "alias": "pg"}],
            },
        ).json()
        first = db["observed"]["addresses"]["bridge"]
        assert a1.links["web"][0].address == first
        moved = cp.client.post(f"/containers/{db['id']}/restart?wait=true").json()
        new = moved["observed"]["addresses"]["bridge"]
        assert new != first
        # h2's runner saw the move and kicked h1's, which pushes web's new link set.
        runner = cp.client.app.state.weft.reconcilers.runners[h1]  # type: ignore[attr-defined]
        cp.client.portal.call(runner.next_pass, 5.0)  # type: ignore[union-attr]
        assert a1.links["web"][0].address == new
        assert web["host_id"] == h1
