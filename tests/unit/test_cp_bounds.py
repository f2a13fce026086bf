"""Bad input is a 422 (or 413) naming the field, and changes nothing (issue 8, items 2-4)."""

import httpx
import pytest

from controlplane.contract.bounds import MAX_BODY_BYTES
from tests.unit.cp_app import control_plane
from tests.unit.cp_fake_agent import TOKEN

HUGE = 2**63


def _problem(r, status, loc=None):
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    if loc is not None:
        assert r.json()["errors"][0]["loc"][: len(loc)] == loc, r.json()
    return r.json()


BAD_CONTAINERS: list[tuple[dict[str, object], list[object]]] = [
    ({"dns_search": ["a b\nnameserver 1.2.3.4"]}, ["body", "dns_search", 0]),
    ({"env": {"A=B": "x"}}, ["body", "env", "A=B"]),
    ({"env": {"A\x00": "x"}}, ["body", "env"]),
    ({"env": {"A": "x\x00y"}}, ["body", "env", "A"]),
    ({"hostname": "h" * 300}, ["body", "hostname"]),
    ({"hostname": "a/b"}, ["body", "hostname"]),
    ({"hostname": "a\x00b"}, ["body", "hostname"]),
    ({"labels": {"big": "x" * 10_000}}, ["body", "labels", "big"]),
    ({"command": ["x" * 40_000]}, ["body", "command", 0]),
    ({"stop_timeout_s": 2**40}, ["body", "stop_timeout_s"]),
    ({"healthcheck": {"test": ["CMD", "true"], "interval_s": 1e300}}, ["body", "healthcheck"]),
    ({"image": "busybox\nlatest"}, ["body", "image"]),
    ({"host_id": True}, ["body", "host_id"]),
    ({"host_id": HUGE}, ["body", "host_id"]),
    ({"links": [{"to": HUGE, "alias": "db"}]}, ["body", "links", 0, "to"]),
]


def test_container_values_that_reach_files_and_processes_are_checked(tmp_path):
    with control_plane(tmp_path) as cp:
        hid, agent = cp.add_host()
        base = {"name": "c1", "host_id": hid, "image": "busybox"}
        for change, loc in BAD_CONTAINERS:
            _problem(cp.client.post("/containers", json={**base, **change}), 422, loc)
        assert cp.client.get("/containers").json() == [] and agent.containers == {}
        row = cp.client.post("/containers", json=base).json()
        for change, loc in BAD_CONTAINERS[:-3]:
            r = cp.client.patch(f"/containers/{row['id']}", json=change)
            _problem(r, 422, loc)
        _problem(cp.client.get(f"/containers/{row['id']}/logs?tail=-1"), 422, ["query", "tail"])


@pytest.mark.parametrize(
    "path",
    [
        f"/hosts/{HUGE}",
        f"/networks/{HUGE}",
        f"/containers/{HUGE}",
        f"/links/{HUGE}",
        f"/containers?host_id={HUGE}",
        f"/events?resource_id={HUGE}",
        f"/events?after={HUGE}",
    ],
)
def test_ids_past_64_bits_are_422_not_500(tmp_path, path):
    with control_plane(tmp_path) as cp:
        _problem(cp.client.get(path), 422)


def test_huge_ids_in_bodies_and_deletes(tmp_path):
    with control_plane(tmp_path) as cp:
        hid, _agent = cp.add_host()
        _problem(cp.client.post("/links", json={"from": HUGE, "to": 1, "alias": "db"}), 422)
        _problem(cp.client.delete(f"/hosts/{HUGE}"), 422, ["path", "host_id"])
        # An unknown id is 404 and leaves no reconciler behind for it.
        _problem(cp.client.delete(f"/hosts/{hid + 1000}"), 404)
        rt = cp.client.app.state.weft  # type: ignore[attr-defined]
        assert hid + 1000 not in rt.reconcilers.tasks


def test_host_tokens_and_unknown_fields(tmp_path):
    with control_plane(tmp_path) as cp:
        hid, _agent = cp.add_host()
        body = {"name": "h2", "agent_url": "http://h2:7000", "agent_token": "tökén"}
        _problem(cp.client.post("/hosts", json=body), 422, ["body", "agent_token"])
        _problem(
            cp.client.patch(f"/hosts/{hid}", json={"agent_token": "tökén"}),
            422,
            ["body", "agent_token"],
        )
        _problem(cp.client.patch(f"/hosts/{hid}", json={"colour": "red"}), 422, ["body", "colour"])
        net = {"name": "n1", "host_id": hid, "subnet": "10.40.0.0/24"}
        nid = cp.client.post("/networks", json=net).json()["id"]
        _problem(cp.client.patch(f"/networks/{nid}", json={"subnet": "10.9.0.0/24"}), 422)
        _problem(cp.client.post("/networks", json={**net, "name": "n2", "mtu": 1}), 422)
        _problem(cp.client.post("/networks", json={**net, "host_id": True}), 422)
        assert cp.client.get(f"/hosts/{hid}").json()["status"] == "ready"
        assert cp.client.get(f"/networks/{nid}").json()["subnet"] == "10.40.0.0/24"


def test_bodies_over_the_limit_are_413_before_they_are_read(tmp_path):
    with control_plane(tmp_path) as cp:
        cp.add_host()
        big = b'{"name": "c1", "image": "' + b"x" * (MAX_BODY_BYTES + 10) + b'"}'
        r = cp.client.post("/containers", content=big, headers={"content-type": "application/json"})
        _problem(r, 413, ["body"])

        def chunks():
            # No Content-Length: the limit must cut off the stream itself.
            yield b'{"name": "c1", "image": "'
            for _ in range(MAX_BODY_BYTES // 65536 + 2):
                yield b"x" * 65536

        r = cp.client.post("/containers", content=chunks())
        assert "larger than" in _problem(r, 413)["detail"]
        assert cp.client.get("/containers").json() == []


def test_an_agent_url_that_is_not_an_agent_is_422_without_its_body(tmp_path):
    with control_plane(tmp_path) as cp:
        cp.agents.add("web").impostor = httpx.Response(200, text="<html>secret</html>")
        body = {"name": "web", "agent_url": "http://web:7000", "agent_token": TOKEN}
        r = cp.client.post("/hosts", json=body)
        _problem(r, 422, ["body", "agent_url"])
        assert "secret" not in r.text
        assert cp.client.get("/hosts").json() == []


def test_one_docker_engine_is_one_host(tmp_path):
    with control_plane(tmp_path) as cp:
        hid, agent = cp.add_host("h1")
        cp.agents.add("h2").engine_id = f"engine-{agent.hostname}"
        body = {"name": "h2", "agent_url": "http://h2:7000", "agent_token": TOKEN}
        r = _problem(cp.client.post("/hosts", json=body), 409, ["body", "agent_url"])
        assert "h1" in r["detail"]
        assert [h["id"] for h in cp.client.get("/hosts").json()] == [hid]
        cp.agents.hosts["h2"].engine_id = "another-engine"
        assert cp.client.post("/hosts", json=body).status_code == 201
