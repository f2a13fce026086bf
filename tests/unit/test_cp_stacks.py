"""/stacks on fake agents: deploy order, truthful results, updates, removal, bad input."""

import textwrap
import time

from fastapi import FastAPI

from controlplane.contract import labels
from controlplane.server.services.stacks import _wait
from tests.eventually import eventually
from tests.unit.cp_app import control_plane

APP = textwrap.dedent(
    """
    name: shop
    services:
      db:
        image: db:1
        healthcheck: {test: ["CMD", "true"], interval: 1s}
        environment: {PASSWORD: "${PASSWORD}"}
        volumes: ["data:/var/lib/db"]
      api:
        image: api:1
        depends_on: {db: {condition: service_healthy}}
        links: [db:database]
        expose: [80]
        deploy: {replicas: 2}
      web:
        image: web:1
        depends_on: [api]
        ports: ["127.0.0.1:8080:80"]
      worker:
        image: worker:1
        depends_on: [db]
    volumes:
      data: {}
    """
)


def deploy(cp, compose=APP, wait=True, **extra):
    body = {"compose": compose, "variables": {"PASSWORD": "s3cret"}, **extra}
    return cp.client.post("/stacks", params={"wait": wait}, json=body)


def problem(r, status):
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    return r.json()


def test_deploy_converges_in_dependency_order(tmp_path):
    with control_plane(tmp_path) as cp:
        _, agent = cp.add_host("h1")
        r = deploy(cp)
        assert r.status_code == 202, r.text
        assert r.headers["location"] == "/stacks/shop"
        stack = r.json()
        assert stack["status"] == "converged", stack
        assert stack["variables"] == ["PASSWORD"] and "s3cret" not in r.text
        services = {s["name"]: s for s in stack["services"]}
        assert services["api"] == {
            **services["api"],
            "desired": 2,
            "running": 2,
            "hosts": ["h1"],
            "state": "running",
        }
        assert stack["networks"] == {"default": "bridge"}
        # db was created before any of its dependents.
        puts = [p.rsplit("/", 1)[1] for m, p in agent.calls if m == "PUT" and "/containers/" in p]
        created = list(dict.fromkeys(n for n in puts if n.startswith("shop-")))
        assert created[0] == "shop-db-1"
        assert set(created) == {
            "shop-db-1",
            "shop-api-1",
            "shop-api-2",
            "shop-worker-1",
            "shop-web-1",
        }
        assert created.index("shop-web-1") > max(
            created.index("shop-api-1"), created.index("shop-api-2")
        )
        assert "shop_default" in agent.networks
        api = agent.specs["shop-api-1"]
        assert api.labels[labels.STACK] == "shop" and api.labels[labels.SERVICE] == "api"
        assert {a.name: a.aliases for a in api.networks}["shop_default"] == ["api"]
        links = cp.client.get("/links").json()
        assert {(k["alias"], k["to"]) for k in links} == {("database", links[0]["to"])}
        assert len(links) == 2  # one per api replica
        assert cp.client.get("/stacks").json()[0]["name"] == "shop"


def test_unhealthy_dependency_fails_with_the_reason_and_dependents_never_start(tmp_path):
    with control_plane(tmp_path) as cp:
        _, agent = cp.add_host("h1")
        agent.unhealthy_images.add("db:1")
        stack = deploy(cp).json()
        assert stack["status"] == "failed"
        assert stack["status_reason"] == "db: health check failing"
        db = next(s for s in stack["services"] if s["name"] == "db")
        assert db["state"] == "failed" and "health check failing" in db["last_error"]
        assert not any(n.startswith("shop-api") for n in agent.containers)
        events = cp.client.get("/events", params={"resource": "stack"}).json()
        assert events[-1]["result"] == "failed" and events[-1]["reason"] == stack["status_reason"]


def test_a_wait_reads_the_stack_at_its_events_not_on_a_timer(tmp_path):
    with control_plane(tmp_path) as cp:
        _, agent = cp.add_host("h1")
        agent.starting_images.add("db:1")  # the deploy waits for db's health forever
        r = deploy(cp, wait=False)
        assert r.status_code == 202, r.text
        stack_id = r.json()["id"]

        def noted_waiting() -> bool:
            events = cp.client.get("/events", params={"resource": "stack"}).json()
            return any(e["result"] == "waiting" for e in events)

        eventually(noted_waiting, timeout=20)  # the deploy's own events are behind us
        reads: list[str] = []

        def settled(row):
            reads.append(row.status)
            return row.status in ("converged", "failed")

        cp.settings.stack_wait_timeout = 3.0
        started = time.monotonic()
        portal, app = cp.client.portal, cp.client.app
        assert portal is not None and isinstance(app, FastAPI)
        portal.call(lambda: _wait(app.state.weft, stack_id, settled))
        assert time.monotonic() - started >= 3.0  # the deadline, not an early return
        assert set(reads) == {"deploying"}
        # A read at the start, one at the 2 s safety re-check, one at the deadline, and
        # one for each event about the stack meanwhile (a straggler or two at most).
        # A 0.2 s poll read it 15 times.
        assert len(reads) <= 5, reads


def test_missing_image_is_reported_per_service(tmp_path):
    with control_plane(tmp_path) as cp:
        _, agent = cp.add_host("h1")
        agent.missing_images.add("worker:1")
        stack = deploy(cp).json()
        assert stack["status"] == "failed"
        assert stack["status_reason"].startswith("worker: ")
        assert "worker:1" in stack["status_reason"]


def test_update_recreates_only_the_changed_service(tmp_path):
    with control_plane(tmp_path) as cp:
        _, agent = cp.add_host("h1")
        assert deploy(cp).json()["status"] == "converged"
        before = {n: c.id for n, c in agent.containers.items()}
        changed = APP.replace("image: worker:1", "image: worker:2")
        body = {"compose": changed, "variables": {"PASSWORD": "s3cret"}}
        r = cp.client.put("/stacks/shop", params={"wait": True}, json=body)
        assert r.status_code == 202 and r.json()["status"] == "converged", r.text
        after = {n: c.id for n, c in agent.containers.items()}
        assert after["shop-worker-1"] != before["shop-worker-1"]
        assert agent.containers["shop-worker-1"].image == "worker:2"
        for name in ("shop-db-1", "shop-api-1", "shop-api-2", "shop-web-1"):
            assert after[name] == before[name], name
        assert r.json()["generation"] == 2


def test_an_image_missing_on_its_host_is_copied_there_from_another_host(tmp_path):
    job = "name: batch\nservices:\n  job:\n    image: job:1\n"
    job += "    deploy: {placement: {constraints: [node.hostname == h2]}}\n"
    with control_plane(tmp_path) as cp:
        _, h1 = cp.add_host("h1")
        _, h2 = cp.add_host("h2")
        h2.missing_images.add("job:1")
        stack = cp.client.post("/stacks", params={"wait": True}, json={"compose": job}).json()
        assert stack["status"] == "converged", stack
        assert ("GET", "/v1/images/job:1/tarball") in h1.calls
        assert ("PUT", "/v1/images") in h2.calls and "job:1" not in h2.missing_images
        assert "batch-job-1" in h2.containers and "batch-job-1" not in h1.containers
        # On no host at all: the deploy fails saying so, nothing half-made.
        h1.missing_images.add("other:1")
        h2.missing_images.add("other:1")
        other = job.replace("batch", "other").replace("job:1", "other:1")
        failed = cp.client.post("/stacks", params={"wait": True}, json={"compose": other}).json()
        assert failed["status"] == "failed"
        assert "image other:1 is on no ready host" in failed["status_reason"]


def test_a_rebuilt_image_is_rolled_out_by_the_next_deploy_and_only_to_its_service(tmp_path):
    with control_plane(tmp_path) as cp:
        _, agent = cp.add_host("h1")
        assert deploy(cp).json()["status"] == "converged"
        before = {n: c.id for n, c in agent.containers.items()}
        assert agent.specs["shop-worker-1"].labels[labels.IMAGE_ID] == "sha256:worker:1"
        agent.image_ids["worker:1"] = "sha256:rebuilt"  # same tag, new image
        body = {"compose": APP, "variables": {"PASSWORD": "s3cret"}}
        r = cp.client.put("/stacks/shop", params={"wait": True}, json=body)
        assert r.status_code == 202 and r.json()["status"] == "converged", r.text
        after = {n: c.id for n, c in agent.containers.items()}
        assert after["shop-worker-1"] != before["shop-worker-1"]
        assert agent.specs["shop-worker-1"].labels[labels.IMAGE_ID] == "sha256:rebuilt"
        for name in ("shop-db-1", "shop-api-1", "shop-api-2", "shop-web-1"):
            assert after[name] == before[name], name


SPLIT = textwrap.dedent(
    """
    name: split
    services:
      db:
        image: db:1
        healthcheck: {test: ["CMD", "true"], interval: 1s}
        deploy: {placement: {constraints: [node.hostname == h1]}}
      api:
        image: api:1
        depends_on: [db]
        deploy: {placement: {constraints: [node.hostname == h2]}}
    """
)


def test_services_on_two_hosts_share_an_overlay_once_the_hosts_are_peered(tmp_path):
    with control_plane(tmp_path) as cp:
        h1, a1 = cp.add_host("h1")
        h2, a2 = cp.add_host("h2")
        body = problem(deploy(cp, SPLIT), 409)
        assert "not one mesh" in body["detail"] and "weft connect h1 h2" in body["detail"]
        assert body["errors"][0]["loc"] == ["body", "compose", "networks", "default"]
        assert cp.client.get("/stacks").json() == []

        assert cp.client.post("/peerings", json={"a": h1, "b": h2}).status_code == 201
        stack = deploy(cp, SPLIT).json()
        assert stack["status"] == "converged", stack
        assert stack["networks"] == {"default": "overlay"}
        nets = cp.client.get("/networks").json()
        assert [(n["name"], n["driver"]) for n in nets] == [("split_default", "overlay")]
        assert "split-db-1" in a1.containers and "split-api-1" in a2.containers
        for agent, name in ((a1, "split-db-1"), (a2, "split-api-1")):
            attached = {a.name: a.aliases for a in agent.specs[name].networks}
            assert attached["split_default"] == [name.split("-")[1]]
        # Both answer by service name on every host, the healthy db (status "healthy") too.
        for served in cp.client.get("/dns").json():
            assert {"db", "api"} <= {r["name"] for r in served["records"]}, served
        assert cp.client.delete("/stacks/split", params={"wait": True}).status_code in (200, 204)
        assert cp.client.get("/networks").json() == []


def test_an_encrypted_stack_network_across_hosts_is_an_encrypted_overlay(tmp_path):
    with control_plane(tmp_path) as cp:
        h1, a1 = cp.add_host("h1")
        h2, a2 = cp.add_host("h2")
        a1.addresses, a2.addresses = ["10.231.7.2"], ["10.231.7.3"]
        assert cp.client.post("/peerings", json={"a": h1, "b": h2}).status_code == 201
        encrypted = SPLIT + "networks:\n  default: {driver_opts: {encrypted: 'true'}}\n"
        stack = deploy(cp, encrypted).json()
        assert stack["status"] == "converged", stack
        (net,) = cp.client.get("/networks").json()
        assert (net["driver"], net["encrypted"]) == ("overlay", True)
        # Its VXLAN runs between the hosts' tunnel addresses, each tunnel knowing the other.
        assert a1.overlays["split_default"].local.startswith("100.96.")
        assert a1.tunnel.spec is not None
        assert {p.public_key for p in a1.tunnel.spec.peers} == {a2.tunnel.public_key}


def test_a_stack_network_avoids_subnets_the_engine_has_from_elsewhere(tmp_path):
    with control_plane(tmp_path) as cp:
        _, agent = cp.add_host("h1")
        # `make up`'s own control plane holds the pool's first /24 on the same engine.
        agent.outside_networks["world_default"] = "10.210.0.0/24"
        assert deploy(cp).json()["status"] == "converged"
        assert agent.networks["shop_default"].subnet == "10.210.1.0/24"


def test_scaling_down_removes_the_extra_replica(tmp_path):
    with control_plane(tmp_path) as cp:
        _, agent = cp.add_host("h1")
        assert not agent.containers
        deploy(cp)
        body = {
            "compose": APP.replace("replicas: 2", "replicas: 1"),
            "variables": {"PASSWORD": "x"},
        }
        assert cp.client.put("/stacks/shop", params={"wait": True}, json=body).status_code == 202
        names = {c["name"] for c in cp.client.get("/containers").json()}
        assert "shop-api-2" not in names and "shop-api-1" in names


def test_delete_keeps_volumes_unless_asked(tmp_path):
    with control_plane(tmp_path) as cp:
        _, agent = cp.add_host("h1")
        deploy(cp)
        assert agent.specs["shop-db-1"].mounts[0].source == "shop_data"
        assert agent.volumes["shop_data"].labels[labels.STACK] == "shop"
        assert cp.client.delete("/stacks/shop", params={"wait": True}).status_code == 204
        assert "shop_data" in agent.volumes  # data kept: a redeploy finds it again
        assert deploy(cp).json()["status"] == "converged"
        assert (
            cp.client.delete("/stacks/shop", params={"wait": True, "volumes": True}).status_code
            == 204
        )
        assert agent.volumes == {}


def test_delete_removes_everything(tmp_path):
    with control_plane(tmp_path) as cp:
        _, agent = cp.add_host("h1")
        deploy(cp)
        r = cp.client.delete("/stacks/shop", params={"wait": True, "volumes": True})
        assert r.status_code == 204, r.text
        assert cp.client.get("/stacks").json() == []
        assert cp.client.get("/containers").json() == []
        assert cp.client.get("/networks").json() == []
        assert cp.client.get("/links").json() == []
        assert not [n for n in agent.containers if n.startswith("shop-")]
        assert "shop_default" not in agent.networks
        assert agent.volumes == {}
        problem(cp.client.get("/stacks/shop"), 404)


def test_bad_compose_is_422_with_paths_and_stores_nothing(tmp_path):
    with control_plane(tmp_path) as cp:
        cp.add_host("h1")
        bad = APP.replace("depends_on: [db]", "depends_on: [ghost]").replace(
            "image: db:1", "image: db:1\n    privileged: true"
        )
        body = problem(deploy(cp, bad), 422)
        locs = {tuple(e["loc"]) for e in body["errors"]}
        assert ("body", "compose", "services", "db", "privileged") in locs
        body = problem(
            deploy(
                cp,
                "name: x\nservices:\n  a: {image: i, depends_on: [b]}\n"
                "  b: {image: i, depends_on: [a]}\n",
            ),
            422,
        )
        assert "cycle" in body["detail"]
        body = problem(deploy(cp, "name: x\nservices: {a: {image: i, ports: ['99999:80']}}\n"), 422)
        assert body["errors"][0]["loc"] == ["body", "compose", "services", "a", "ports", 0]
        assert cp.client.get("/stacks").json() == []
        assert cp.client.get("/containers").json() == []


def test_yaml_body_bomb_and_size_limits(tmp_path):
    with control_plane(tmp_path) as cp:
        cp.add_host("h1")
        text = "services:\n  web: {image: nginx:1}\n"
        r = cp.client.post(
            "/stacks",
            params={"name": "web", "wait": True},
            content=text,
            headers={"content-type": "application/yaml"},
        )
        assert r.status_code == 202 and r.json()["status"] == "converged", r.text
        levels = zip("abcdefg", "bcdefgh", strict=True)
        lol = "a: &a [x,x,x,x,x,x,x,x,x,x]\n" + "".join(
            f"{c}: &{c} [{','.join(['*' + p] * 10)}]\n" for p, c in levels
        )
        r = cp.client.post(
            "/stacks",
            params={"name": "bomb"},
            content=lol + "services: {w: {image: i, command: *h}}\n",
            headers={"content-type": "application/yaml"},
        )
        assert "expands to more than" in problem(r, 413)["detail"]
        huge = "x" * (1 << 20) + "x"
        problem(cp.client.post("/stacks", json={"name": "big", "compose": huge}), 413)
        assert [s["name"] for s in cp.client.get("/stacks").json()] == ["web"]


def test_placement_that_cannot_be_met_is_409(tmp_path):
    with control_plane(tmp_path) as cp:
        cp.add_host("h1")
        compose = (
            "name: x\nservices:\n  a:\n    image: i\n    deploy:\n      placement:\n"
            "        constraints: [node.hostname == h9]\n"
        )
        body = problem(deploy(cp, compose), 409)
        assert body["errors"][0]["loc"] == [
            "body",
            "compose",
            "services",
            "a",
            "deploy",
            "placement",
        ]
        assert "h1: node.hostname == h9" in body["detail"]


def test_port_taken_by_another_container_is_409_up_front(tmp_path):
    with control_plane(tmp_path) as cp:
        hid, _ = cp.add_host("h1")
        other = {
            "name": "other",
            "host_id": hid,
            "image": "x",
            "ports": [{"container_port": 80, "host_port": 8080}],
        }
        assert cp.client.post("/containers", json=other).status_code == 201
        body = problem(deploy(cp), 409)
        assert body["errors"][0]["loc"][:4] == ["body", "compose", "services", "web"]
        assert cp.client.get("/stacks").json() == []


def test_duplicate_name_is_409(tmp_path):
    with control_plane(tmp_path) as cp:
        cp.add_host("h1")
        assert deploy(cp).status_code == 202
        problem(deploy(cp), 409)
