"""Control plane: networks and containers over the API, converged on fake agents."""

import httpx

from controlplane.contract import labels as L
from tests.eventually import eventually
from tests.unit.cp_app import control_plane


def _problem(r, status, loc=None):
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert body["status"] == status and body["title"] and body["detail"]
    if loc is not None:
        assert body["errors"][0]["loc"] == loc, body
    return body


def test_network_validation_and_overlap(tmp_path):
    with control_plane(tmp_path) as cp:
        hid, agent = cp.add_host()
        net = {"name": "n1", "host_id": hid, "subnet": "10.40.0.0/24"}
        _problem(
            cp.client.post("/networks", json={**net, "gateway": "10.41.0.1"}),
            422,
            ["body", "gateway"],
        )
        _problem(
            cp.client.post("/networks", json={**net, "gateway": "10.40.0.255"}),
            422,
            ["body", "gateway"],
        )
        _problem(
            cp.client.post("/networks", json={**net, "gateway": "10.40.0.0"}),
            422,
            ["body", "gateway"],
        )
        _problem(
            cp.client.post("/networks", json={**net, "subnet": "10.40.0.1/24"}),
            422,
            ["body", "subnet"],
        )
        _problem(cp.client.post("/networks", json={**net, "name": "bridge"}), 422, ["body", "name"])
        _problem(cp.client.post("/networks", json={**net, "host_id": 99}), 422, ["body", "host_id"])
        r = cp.client.post("/networks?wait=true", json=net)
        assert r.status_code == 201, r.text
        assert r.json()["status"] == "converged" and r.json()["gateway"] == "10.40.0.1"
        seen = agent.networks["n1"]
        assert seen.subnet == "10.40.0.0/24" and seen.labels[L.OWNER].startswith("weft-cp-")
        _problem(
            cp.client.post("/networks", json={**net, "name": "n2", "subnet": "10.40.0.128/25"}),
            409,
            ["body", "subnet"],
        )
        _problem(cp.client.post("/networks", json=net), 409, ["body", "name"])
        # Another host may reuse the subnet.
        hid2, _ = cp.add_host("h2")
        assert cp.client.post("/networks", json={**net, "host_id": hid2}).status_code == 201


def test_container_lifecycle_and_conflicts(tmp_path):
    with control_plane(tmp_path) as cp:
        hid, agent = cp.add_host()
        cp.client.post("/networks", json={"name": "n1", "host_id": hid, "subnet": "10.40.0.0/24"})
        web = {
            "name": "web",
            "host_id": hid,
            "image": "img",
            "exposed_ports": ["8080"],
            "ports": [{"container_port": 80, "host_port": 8081}],
            "networks": [{"network": "n1", "aliases": ["www"], "ipv4_address": "10.40.0.10"}],
            "restart_policy": {"name": "always"},
            "dns": ["10.40.0.1"],
            "dns_search": ["weave.local"],
            "labels": {"weft.test": "1"},
            "healthcheck": {"test": ["CMD", "true"]},
        }
        r = cp.client.post("/containers?wait=true", json=web)
        assert r.status_code == 201, r.text
        c = r.json()
        assert c["status"] == "converged", c
        assert (
            c["observed"]["state"] == "healthy"
        )  # the fake agent folds health in, as the real one does
        assert c["observed"]["addresses"] == {"n1": "10.40.0.10"}
        assert c["exposed_ports"] == ["8080/tcp"]
        spec = agent.specs["web"]
        assert spec.published_ports[0].host_port == 8081 and spec.dns == ["10.40.0.1"]
        assert spec.networks[0].aliases == ["www"] and spec.restart_policy.name == "always"
        assert spec.labels[L.CONTAINER_ID] == str(c["id"]) and spec.labels["weft.test"] == "1"
        other = {"name": "db", "host_id": hid, "image": "img"}
        _problem(
            cp.client.post(
                "/containers",
                json={
                    **other,
                    "ports": [{"container_port": 81, "host_port": 8081, "host_ip": "127.0.0.1"}],
                },
            ),
            409,
            ["body", "ports", 0, "host_port"],
        )
        # Same port, other protocol: fine to record.
        ok = {
            **other,
            "name": "dns",
            "ports": [{"container_port": 53, "host_port": 8081, "protocol": "udp"}],
        }
        assert cp.client.post("/containers", json=ok).status_code == 201
        _problem(
            cp.client.post(
                "/containers",
                json={**other, "networks": [{"network": "n1", "ipv4_address": "10.40.0.10"}]},
            ),
            409,
            ["body", "networks", 0, "ipv4_address"],
        )
        _problem(
            cp.client.post(
                "/containers",
                json={**other, "networks": [{"network": "n1", "ipv4_address": "10.50.0.10"}]},
            ),
            422,
            ["body", "networks", 0, "ipv4_address"],
        )
        _problem(
            cp.client.post("/containers", json={**other, "networks": [{"network": "nope"}]}),
            422,
            ["body", "networks", 0, "network"],
        )
        _problem(
            cp.client.post("/containers", json={**other, "network_mode": "container:x"}),
            422,
            ["body", "network_mode"],
        )
        body = _problem(
            cp.client.post(
                "/containers",
                json={**other, "network_mode": "host", "ports": [{"container_port": 1}]},
            ),
            422,
        )
        assert body["errors"][0]["loc"][0] == "body"
        _problem(
            cp.client.post("/containers", json={**other, "network_mode": "weird"}),
            422,
            ["body", "network_mode"],
        )
        _problem(cp.client.post("/containers", json={**web, "ports": []}), 409, ["body", "name"])
        # The four network modes of the seed.
        for mode in ("none", "host", "container:web"):
            r = cp.client.post(
                "/containers?wait=true",
                json={**other, "name": f"m-{mode[:4]}", "network_mode": mode},
            )
            assert r.json()["status"] == "converged", r.text
            assert agent.specs[f"m-{mode[:4]}"].network_mode == mode
        _problem(cp.client.delete(f"/containers/{c['id']}"), 409)  # m-cont shares its network


def test_update_recreates_restart_moves_delete_removes(tmp_path):
    with control_plane(tmp_path) as cp:
        hid, agent = cp.add_host()
        net = cp.client.post(
            "/networks", json={"name": "n1", "host_id": hid, "subnet": "10.40.0.0/24"}
        ).json()
        r = cp.client.post(
            "/containers?wait=true",
            json={"name": "db", "host_id": hid, "image": "img", "networks": [{"network": "n1"}]},
        )
        c = r.json()
        first = c["observed"]["addresses"]["n1"]
        docker_id = c["observed"]["docker_id"]
        r = cp.client.patch(f"/containers/{c['id']}?wait=true", json={"env": {"A": "1"}})
        assert r.json()["status"] == "converged" and agent.specs["db"].env == {"A": "1"}
        assert r.json()["observed"]["docker_id"] != docker_id
        docker_id = r.json()["observed"]["docker_id"]
        r = cp.client.post(f"/containers/{c['id']}/restart?wait=true")
        assert r.status_code == 202
        assert r.json()["status"] == "converged" and r.json()["restart_generation"] == 1
        # Restarted in place: the same container, at the address it came back with.
        assert r.json()["observed"]["docker_id"] == docker_id
        assert r.json()["observed"]["addresses"]["n1"] != first
        assert agent.restarts == 1
        # Unchanged spec: nothing is recreated on later passes.
        before = len([k for k in agent.calls if k[0] == "PUT"])
        runner = cp.client.app.state.weft.reconcilers.runners[hid]  # type: ignore[attr-defined]
        assert cp.client.portal.call(runner.next_pass, 5.0)  # type: ignore[union-attr]
        assert len([k for k in agent.calls if k[0] == "PUT"]) == before
        _problem(cp.client.delete(f"/networks/{net['id']}"), 409)
        assert cp.client.delete(f"/containers/{c['id']}?wait=true").status_code == 204
        assert agent.containers == {}
        assert cp.client.delete(f"/networks/{net['id']}?wait=true").status_code == 204
        assert agent.networks == {}
        actions = [
            (e["resource"], e["action"], e["result"]) for e in cp.client.get("/events").json()
        ]
        for expected in [
            ("network", "create", "ok"),
            ("container", "create", "ok"),
            ("container", "recreate", "ok"),
            ("container", "remove", "ok"),
            ("network", "remove", "ok"),
        ]:
            assert expected in actions


def test_strays_of_this_owner_are_removed_others_kept(tmp_path):
    with control_plane(tmp_path) as cp:
        hid, agent = cp.add_host()
        owner = cp.client.app.state.weft.owner  # type: ignore[attr-defined]
        from controlplane.contract import schemas as A

        for name, who in (("stray", owner), ("foreign", "someone-else")):
            agent.containers[name] = A.ContainerState(
                name=name,
                id=name,
                image="img",
                status="running",
                running=True,
                labels={L.OWNER: who, L.MANAGED: "true"},
            )
        runner = cp.client.app.state.weft.reconcilers.runners[hid]  # type: ignore[attr-defined]
        assert cp.client.portal.call(runner.next_pass, 5.0)  # type: ignore[union-attr]
        assert sorted(agent.containers) == ["foreign"]


def test_unreachable_agent_wait_times_out_pending_then_converges(tmp_path):
    with control_plane(tmp_path) as cp:
        # The wait gives up (the agent is down: nothing can converge) and says pending;
        # the reason shows once a pass has found the agent away, however long that takes.
        cp.settings.wait_timeout = 0.3
        hid, agent = cp.add_host()
        agent.down = True
        r = cp.client.post(
            "/containers?wait=true", json={"name": "c", "host_id": hid, "image": "img"}
        )
        assert r.status_code == 201
        assert r.json()["status"] == "pending"
        cid = r.json()["id"]
        reason = eventually(lambda: cp.client.get(f"/containers/{cid}").json()["status_reason"])
        assert "unreachable" in reason
        assert cp.client.get(f"/containers/{cid}").json()["status"] == "pending"
        agent.down = False
        cp.settings.wait_timeout = 5.0
        r = cp.client.patch(f"/containers/{cid}?wait=true", json={"labels": {}})
        assert r.json()["status"] == "converged"
        assert list(agent.containers) == ["c"]


def test_failed_action_reports_reason_and_event(tmp_path):
    with control_plane(tmp_path) as cp:
        hid, agent = cp.add_host()
        agent.missing_images.add("ghost")
        r = cp.client.post(
            "/containers?wait=true", json={"name": "c", "host_id": hid, "image": "ghost"}
        )
        body = r.json()
        assert body["status"] == "failed" and "no such image" in body["status_reason"]
        ev = cp.client.get("/events", params={"resource": "container", "result": "failed"}).json()
        assert ev and ev[-1]["resource_name"] == "c" and "no such image" in ev[-1]["reason"]
        logs = cp.client.get(f"/containers/{body['id']}/logs")
        assert logs.status_code == 200  # the fake answers logs for any name


def test_a_repeated_failure_is_one_event_with_a_count_and_a_write_retries_at_once(tmp_path):
    with control_plane(tmp_path) as cp:
        cp.settings.retry_initial, cp.settings.retry_max = 0.05, 0.2  # read by the new runner
        hid, agent = cp.add_host()
        agent.missing_images.add("ghost")
        body = {"name": "c", "host_id": hid, "image": "ghost"}
        cid = cp.client.post("/containers?wait=true", json=body).json()["id"]
        params = {"resource": "container", "resource_id": cid, "result": "failed"}

        def counted() -> tuple[list[dict], dict] | None:
            # The event and the row are two writes of one failure: read until both show 4.
            events = cp.client.get("/events", params=params).json()
            row = cp.client.get(f"/containers/{cid}").json()
            return (events, row) if events and events[-1]["count"] >= 4 <= row["failures"] else None

        found = eventually(counted, timeout=10)
        assert found is not None
        events, row = found
        assert len(events) == 1 and events[0]["last_at"] > events[0]["at"]
        assert row["status"] == "failed"
        # The image arrives and a write asks again: converged at once, the count back to 0.
        agent.missing_images.clear()
        r = cp.client.patch(f"/containers/{cid}?wait=true", json={"labels": {"a": "b"}})
        assert r.json()["status"] == "converged" and r.json()["failures"] == 0


def test_wait_true_follows_the_runners_passes_and_never_drives_them(tmp_path):
    # Every pass fails (the agent's answers are not the agent API's): on main, the
    # waiting request kicked a new pass as each one ended, hundreds a second.
    with control_plane(tmp_path) as cp:
        hid, agent = cp.add_host()
        runner = cp.client.app.state.weft.reconcilers.runners[hid]  # type: ignore[attr-defined]
        started = runner.passes
        agent.impostor = httpx.Response(200, json={"not": "the agent"})
        # A pass begun before the impostor may still be in flight, with the real
        # agent's info in hand: it would act on the container below and fail it.
        # Wait for it to end, and for one begun after (at most two passes).
        assert eventually(lambda: runner.passes >= started + 2, timeout=10)
        cp.settings.wait_timeout = 3.0
        before = runner.passes
        r = cp.client.post(
            "/containers?wait=true", json={"name": "c", "host_id": hid, "image": "x"}
        )
        assert r.status_code == 201 and r.json()["status"] == "pending"
        # The host's backoff (0.05 s doubling to 0.2 s) allows about 18 passes in 3 s.
        assert runner.passes - before <= 3.0 / 0.2 + 6, runner.passes - before
