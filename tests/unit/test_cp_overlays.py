"""Overlay networks through the API with fake agents: meshes, subnets, central IPAM, DNS.

The agents are fakes (the HTTP seam); the real datapath is in tests/e2e/test_mesh.py.
"""

import ipaddress
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.eventually import eventually
from tests.unit.cp_app import CP, control_plane
from tests.unit.cp_fake_agent import FakeAgent


@pytest.fixture
def cp(tmp_path: Path) -> Iterator[CP]:
    with control_plane(tmp_path) as c:
        yield c


def _problem(r, status: int, loc: list | None) -> None:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    if loc is not None:
        assert r.json()["errors"][0]["loc"] == loc


def _hosts(cp: CP, n: int) -> list[tuple[int, FakeAgent]]:
    out = []
    for i in range(1, n + 1):
        hid, agent = cp.add_host(f"h{i}")
        agent.addresses = [f"10.231.9.{i + 1}"]
        out.append((hid, agent))
    return out


def test_an_overlay_names_its_mesh_and_ambiguity_is_a_422(cp: CP) -> None:
    (h1, _), (h2, _), (h3, _) = _hosts(cp, 3)
    ov = {"name": "ov", "driver": "overlay"}
    _problem(cp.client.post("/networks", json=ov), 422, ["body", "host_id"])  # 3 meshes
    _problem(cp.client.post("/networks", json={**ov, "hosts": [h1, h2]}), 422, ["body", "hosts", 1])
    _problem(
        cp.client.post("/networks", json={**ov, "hosts": [h1, 999]}), 422, ["body", "hosts", 1]
    )
    _problem(
        cp.client.post("/networks", json={**ov, "host_id": h1, "gateway": "10.32.0.1"}),
        422,
        ["body", "gateway"],
    )
    _problem(
        cp.client.post("/networks", json={"name": "b", "host_id": h1}), 422, ["body", "subnet"]
    )
    assert cp.client.get("/networks").json() == []
    cp.client.post("/peerings", json={"a": h1, "b": h2})
    cp.client.post("/peerings", json={"a": h2, "b": h3})
    r = cp.client.post("/networks", json=ov)  # one mesh now: no need to name it
    assert r.status_code == 201, r.text
    body = r.json()
    assert (body["driver"], body["subnet"], body["vni"], body["gateway"]) == (
        "overlay",
        "10.32.0.0/16",
        1,
        None,
    )
    again = cp.client.post("/networks", json={**ov, "host_id": h3})
    _problem(again, 409, ["body", "name"])


def test_subnets_never_overlap_across_drivers(cp: CP) -> None:
    (h1, _), (h2, _) = _hosts(cp, 2)
    bridge = {"name": "br", "host_id": h2, "subnet": "10.33.1.0/24"}
    assert cp.client.post("/networks", json=bridge).status_code == 201
    first = cp.client.post("/networks", json={"name": "a", "driver": "overlay", "host_id": h1})
    assert first.json()["subnet"] == "10.32.0.0/16"
    second = cp.client.post("/networks", json={"name": "b", "driver": "overlay", "host_id": h1})
    assert second.json()["subnet"] == "10.34.0.0/16"  # 10.33/16 holds the bridge
    clash = {"name": "c", "driver": "overlay", "host_id": h1, "subnet": "10.33.0.0/16"}
    _problem(cp.client.post("/networks", json=clash), 409, ["body", "subnet"])
    inside = {"name": "d", "host_id": h2, "subnet": "10.32.5.0/24"}
    _problem(cp.client.post("/networks", json=inside), 409, ["body", "subnet"])


def test_20_parallel_overlays_get_disjoint_subnets_and_a_fixed_subnet_one_winner(
    cp: CP,
) -> None:
    _hosts(cp, 1)

    def post(body: dict) -> tuple[int, dict]:
        r = cp.client.post("/networks", json=body)
        return r.status_code, r.json()

    with ThreadPoolExecutor(20) as pool:
        free = list(pool.map(post, [{"name": f"f{i}", "driver": "overlay"} for i in range(20)]))
        fixed = list(
            pool.map(
                post,
                [
                    {"name": f"x{i}", "driver": "overlay", "subnet": "10.200.0.0/16"}
                    for i in range(20)
                ],
            )
        )
    # The pool 10.32.0.0/12 holds 16 /16s: 16 win, 4 find it full.
    assert sorted(s for s, _ in free) == [201] * 16 + [409] * 4, free
    won = [b for s, b in free if s == 201]
    subnets = [ipaddress.ip_network(b["subnet"]) for b in won]
    assert all(not a.overlaps(b) for i, a in enumerate(subnets) for b in subnets[i + 1 :])
    assert len({b["vni"] for b in won}) == 16
    assert sorted(s for s, _ in fixed) == [201] + [409] * 19, fixed


def test_containers_on_an_overlay_get_distinct_addresses_peers_and_dns(cp: CP) -> None:
    (h1, a1), (h2, a2) = _hosts(cp, 2)
    cp.client.post("/peerings", json={"a": h1, "b": h2})
    net = cp.client.post("/networks", json={"name": "ov", "driver": "overlay"}).json()
    ids = []
    for hid, name in ((h1, "web"), (h2, "db"), (h2, "db2")):
        r = cp.client.post(
            "/containers?wait=true",
            json={
                "host_id": hid,
                "name": name,
                "image": "img",
                "networks": [{"network": "ov", "aliases": ["store"] if hid == h2 else []}],
            },
        )
        assert r.status_code == 201 and r.json()["status"] == "converged", r.text
        ids.append(r.json()["id"])
    s1, s2 = a1.overlays["ov"], a2.overlays["ov"]
    assert (s1.vni, s1.local, s1.peers) == (net["vni"], "10.231.9.2", ["10.231.9.3"])
    assert (s2.local, s2.peers) == ("10.231.9.3", ["10.231.9.2"])
    assert s1.network.ip_range != s2.network.ip_range
    assert s1.network.gateway != s2.network.gateway
    web = a1.specs["web"]
    db, db2 = a2.specs["db"].networks[0], a2.specs["db2"].networks[0]
    addresses = {web.networks[0].ipv4_address, db.ipv4_address, db2.ipv4_address}
    assert len(addresses) == 3 and None not in addresses
    assert web.dns == [s1.network.gateway] and web.dns_search == ["weave.local"]

    def served() -> dict[str, list[str]]:
        return {r.name: r.addresses for r in a1.dns.records}

    eventually(lambda: set(served()) == {"web", "db", "db2", "store"})
    assert served()["store"] == sorted(str(a) for a in (db.ipv4_address, db2.ipv4_address))
    assert a2.dns == a1.dns
    # weft status dns|ipam: the same records per host; blocks and addresses per host.
    listed = {h["name"]: h for h in cp.client.get("/dns").json()}
    assert {r["name"] for r in listed["h2"]["records"]} == {"web", "db", "db2", "store"}
    (ipam,) = cp.client.get("/ipam").json()
    assert {b["host"] for b in ipam["blocks"]} == {"h1", "h2"}
    assert {(a["container"], a["host"]) for a in ipam["addresses"]} == {
        ("web", "h1"),
        ("db", "h2"),
        ("db2", "h2"),
    }
    assert {a["address"] for a in ipam["addresses"]} == addresses
    # In use: refused; once the containers are gone, gone from every host.
    _problem(cp.client.delete(f"/networks/{net['id']}"), 409, None)
    for cid in ids:
        assert cp.client.delete(f"/containers/{cid}?wait=true").status_code == 204
    assert cp.client.delete(f"/networks/{net['id']}?wait=true").status_code == 204
    assert "ov" not in a1.overlays and "ov" not in a2.overlays


def test_bridges_and_overlays_racing_for_one_range_leave_one_winner(cp: CP) -> None:
    (h1, _), (h2, _) = _hosts(cp, 2)
    bodies = [
        {"name": f"b{i}", "host_id": (h1, h2)[i % 2], "subnet": f"10.210.{i}.0/24"}
        for i in range(10)
    ] + [
        {"name": f"o{i}", "driver": "overlay", "host_id": h1, "subnet": "10.210.0.0/16"}
        for i in range(10)
    ]

    def post(body: dict) -> int:
        return cp.client.post("/networks", json=body).status_code

    with ThreadPoolExecutor(20) as pool:
        statuses = list(pool.map(post, bodies))
    # Every bridge /24 lies inside the overlay's /16: either the overlay or the bridges.
    won = [b for b, s in zip(bodies, statuses, strict=True) if s == 201]
    assert all(s in (201, 409) for s in statuses), statuses
    overlays = [b for b in won if b.get("driver") == "overlay"]
    assert (len(overlays), len(won)) in ((1, 1), (0, 10)), won


def test_a_full_overlay_fails_with_the_reason_and_a_removed_host_hands_it_over(cp: CP) -> None:
    (h1, a1), (h2, a2) = _hosts(cp, 2)
    cp.client.post("/peerings", json={"a": h1, "b": h2})
    # A /24 is one block: h1 takes it, so h2 has no room at all.
    tiny = {"name": "tiny", "driver": "overlay", "host_id": h1, "subnet": "10.77.0.0/24"}
    net = cp.client.post("/networks", json=tiny).json()
    eventually(lambda: cp.client.get(f"/networks/{net['id']}").json()["status"] == "failed")
    assert "no free /24" in cp.client.get(f"/networks/{net['id']}").json()["status_reason"]
    assert "tiny" in a1.overlays or "tiny" in a2.overlays
    # The anchor h1 goes: the overlay stays, anchored on h2; h1's block returns to the pool.
    assert cp.client.delete(f"/hosts/{h1}").status_code == 204
    moved = cp.client.get(f"/networks/{net['id']}").json()
    assert moved["host_id"] == h2
    eventually(lambda: "tiny" in a2.overlays)
    (ipam,) = cp.client.get("/ipam").json()
    assert [b["host"] for b in ipam["blocks"]] == ["h2"]
