"""/peerings through the API with fake agents: validation, meshes, nothing assumed."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.unit.cp_app import CP, control_plane


@pytest.fixture
def cp(tmp_path: Path) -> Iterator[CP]:
    with control_plane(tmp_path) as c:
        yield c


def _problem(r, status: int, loc: list) -> None:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["errors"][0]["loc"] == loc


def test_bad_peerings_are_refused_naming_the_field_and_change_nothing(cp: CP) -> None:
    h1, _ = cp.add_host("h1")
    h2, _ = cp.add_host("h2")
    _problem(cp.client.post("/peerings", json={"a": h1, "b": h1}), 422, ["body", "b"])
    _problem(cp.client.post("/peerings", json={"a": 999, "b": h1}), 422, ["body", "a"])
    _problem(cp.client.post("/peerings", json={"a": h1, "b": 999}), 422, ["body", "b"])
    _problem(cp.client.post("/peerings", json={"a": h1}), 422, ["body", "b"])
    assert cp.client.get("/peerings").json() == []
    assert cp.client.post("/peerings", json={"a": h2, "b": h1}).status_code == 201
    r = cp.client.post("/peerings", json={"a": h1, "b": h2})  # the same pair, other order
    _problem(r, 409, ["body"])
    assert len(cp.client.get("/peerings").json()) == 1


def test_a_peering_is_measured_never_assumed(cp: CP) -> None:
    h1, _ = cp.add_host("h1")
    h2, _ = cp.add_host("h2")
    r = cp.client.post("/peerings", json={"a": h1, "b": h2})
    assert r.status_code == 201, r.text
    body = r.json()
    assert (body["a"], body["b"], body["a_name"], body["b_name"]) == (h1, h2, "h1", "h2")
    check = body["last_check"]
    # These fake agents cannot probe: so it is unreachable, and the reason says why.
    assert check["reachable"] is False and "could not probe" in check["reason"]
    assert check["datapath"] == "vxlan" and check["encrypted"] is False


def test_meshes_join_through_others_and_split_when_forgotten(cp: CP) -> None:
    ids = [cp.add_host(f"h{i}")[0] for i in (1, 2, 3)]
    p12 = cp.client.post("/peerings", json={"a": ids[0], "b": ids[1]}).json()["id"]
    cp.client.post("/peerings", json={"a": ids[1], "b": ids[2]})
    status = cp.client.get(f"/hosts/{ids[0]}/peers").json()
    assert status["mesh"] == ["h1", "h2", "h3"]
    assert [(p["name"], p["direct"]) for p in status["peers"]] == [("h2", True), ("h3", False)]
    assert all(p["reachable"] is False and p["reason"] for p in status["peers"])
    assert cp.client.delete(f"/peerings/{p12}").status_code == 204
    assert cp.client.delete(f"/peerings/{p12}").status_code == 404
    assert cp.client.get(f"/hosts/{ids[0]}/peers").json()["mesh"] == ["h1"]
    assert cp.client.get(f"/hosts/{ids[2]}/peers").json()["mesh"] == ["h2", "h3"]
    assert cp.client.get("/hosts/999/peers").status_code == 404
