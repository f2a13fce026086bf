"""The other weave verbs through the control plane's API, with fake agents (the HTTP seam).

Attach/detach move a container without recreating it (the fake keeps the same
state object: the same id); expose/hide reserve and release the host's address in
the central IPAM; ps asks every agent; reset empties the host and the control
plane forgets it. The real datapath is in tests/e2e/test_weave_cp.py.
"""

from concurrent.futures import ThreadPoolExecutor

from tests.eventually import eventually
from tests.unit.cp_app import CP
from tests.unit.cp_fake_agent import FakeAgent
from tests.unit.test_cp_overlays import _problem, cp  # noqa: F401


def _mesh(cp: CP) -> tuple[list[tuple[int, FakeAgent]], dict, dict]:  # noqa: F811
    """Two peered hosts, an overlay across them, a bridge on h1, and a container `web` on h1."""
    out = []
    for i in (1, 2):
        hid, agent = cp.add_host(f"h{i}")
        agent.addresses = [f"10.231.9.{i + 1}"]
        out.append((hid, agent))
    (h1, _), (h2, _) = out
    assert cp.client.post("/peerings", json={"a": h1, "b": h2}).status_code == 201
    ov = cp.client.post("/networks?wait=true", json={"name": "ov", "driver": "overlay"}).json()
    br = cp.client.post(
        "/networks?wait=true", json={"name": "br", "host_id": h1, "subnet": "10.61.0.0/24"}
    ).json()
    r = cp.client.post(
        "/containers?wait=true",
        json={"host_id": h1, "name": "web", "image": "img", "networks": [{"network": "br"}]},
    )
    assert r.json()["status"] == "converged", r.text
    return out, ov, br


def _records(cp: CP, host_id: int) -> dict[str, list[str]]:  # noqa: F811
    hosts = {h["host_id"]: h for h in cp.client.get("/dns").json()}
    return {r["name"]: r["addresses"] for r in hosts[host_id]["records"]}


def test_attach_and_detach_move_a_running_container_in_place(cp: CP) -> None:  # noqa: F811
    [(_h1, a1), (h2, _a2)], ov, _ = _mesh(cp)
    web = cp.client.get("/containers").json()[0]
    before = a1.containers["web"]
    r = cp.client.put(
        f"/containers/{web['id']}/overlays/{ov['id']}?wait=true", json={"aliases": ["www"]}
    )
    assert r.status_code == 200 and r.json()["status"] == "converged", r.text
    after = a1.containers["web"]
    assert after is before and after.id == before.id  # not recreated
    address = after.networks["ov"].ip_address
    assert after.networks["ov"].aliases == ["www"]
    assert [a["network"] for a in r.json()["networks"]] == ["br", "ov"]
    ipam = cp.client.get("/ipam").json()[0]["addresses"]
    assert [(a["container"], a["address"]) for a in ipam] == [("web", address)]
    eventually(lambda: _records(cp, h2).get("web") == [address], timeout=5)
    assert _records(cp, h2)["www"] == [address]
    # The same again changes nothing; new aliases reattach at the same address.
    again = cp.client.put(f"/containers/{web['id']}/overlays/{ov['id']}", json={"aliases": ["www"]})
    assert again.json()["updated_at"] == r.json()["updated_at"]
    r = cp.client.put(
        f"/containers/{web['id']}/overlays/{ov['id']}?wait=true", json={"aliases": ["w2"]}
    )
    assert a1.containers["web"].networks["ov"].aliases == ["w2"]
    assert a1.containers["web"].networks["ov"].ip_address == address
    r = cp.client.delete(f"/containers/{web['id']}/overlays/{ov['id']}?wait=true")
    assert r.status_code == 200 and r.json()["status"] == "converged", r.text
    assert a1.containers["web"] is before and "ov" not in before.networks
    assert cp.client.get("/ipam").json()[0]["addresses"] == []
    eventually(lambda: "web" not in _records(cp, h2), timeout=5)
    # Detaching what is not attached is no change.
    assert cp.client.delete(f"/containers/{web['id']}/overlays/{ov['id']}").status_code == 200


def test_attach_refuses_bad_targets_and_changes_nothing(cp: CP) -> None:  # noqa: F811
    [(h1, _), (_h2, _)], ov, br = _mesh(cp)
    web = cp.client.get("/containers").json()[0]
    _problem(cp.client.put(f"/containers/999/overlays/{ov['id']}"), 404, None)
    _problem(cp.client.put(f"/containers/{web['id']}/overlays/999"), 404, None)
    _problem(
        cp.client.put(f"/containers/{web['id']}/overlays/{br['id']}"), 422, ["path", "network_id"]
    )
    _problem(
        cp.client.put(f"/containers/{web['id']}/overlays/{ov['id']}", json={"aliases": ["a b"]}),
        422,
        None,
    )
    host_mode = cp.client.post(
        "/containers?wait=true",
        json={"host_id": h1, "name": "hm", "image": "img", "network_mode": "host"},
    ).json()
    _problem(
        cp.client.put(f"/containers/{host_mode['id']}/overlays/{ov['id']}"),
        409,
        ["path", "container_id"],
    )
    # A third host outside the mesh: the overlay does not span it.
    h3, _ = cp.add_host("h3")
    lone = cp.client.post(
        "/containers?wait=true", json={"host_id": h3, "name": "lone", "image": "img"}
    ).json()
    _problem(
        cp.client.put(f"/containers/{lone['id']}/overlays/{ov['id']}"), 409, ["path", "network_id"]
    )
    assert cp.client.get(f"/containers/{web['id']}").json()["updated_at"] == web["updated_at"]
    reader = cp.client.post("/tokens", json={"name": "r", "role": "reader"}).json()["token"]
    r = cp.client.put(
        f"/containers/{web['id']}/overlays/{ov['id']}",
        headers={"Authorization": f"Bearer {reader}"},
    )
    assert r.status_code == 403


def test_expose_reserves_one_address_hide_frees_it_and_ps_lists_both_hosts(cp: CP) -> None:  # noqa: F811
    [(h1, a1), (_h2, _a2)], ov, br = _mesh(cp)
    r = cp.client.put(f"/hosts/{h1}/exposed/{ov['id']}?wait=true")
    assert r.status_code == 200, r.text
    exposed = r.json()
    assert exposed["prefix"] == 16 and exposed["host"] == "h1"
    assert a1.exposed["ov"] == [f"{exposed['address']}/16"]
    again = cp.client.put(f"/hosts/{h1}/exposed/{ov['id']}").json()
    assert again["address"] == exposed["address"]
    assert cp.client.get("/exposed").json() == [exposed]
    # A container on h1 never gets the exposed address.
    c = cp.client.post(
        "/containers?wait=true",
        json={"host_id": h1, "name": "c", "image": "img", "networks": [{"network": "ov"}]},
    ).json()
    assert a1.containers["c"].networks["ov"].ip_address != exposed["address"]
    _problem(cp.client.put(f"/hosts/{h1}/exposed/{br['id']}"), 422, ["path", "network_id"])
    _problem(cp.client.put(f"/hosts/999/exposed/{ov['id']}"), 404, None)
    ps = cp.client.get("/ps").json()
    assert [(h["host"], h["reachable"]) for h in ps] == [("h1", True), ("h2", True)]
    kinds = sorted((e["kind"], e["name"], e["address"]) for e in ps[0]["endpoints"])
    assert kinds == [
        ("container", "c", f"{a1.containers['c'].networks['ov'].ip_address}/16"),
        ("host", f"weftb{ov['vni']}", f"{exposed['address']}/16"),
    ]
    assert cp.client.delete(f"/hosts/{h1}/exposed/{ov['id']}?wait=true").status_code == 204
    assert a1.exposed["ov"] == []
    assert cp.client.get("/exposed").json() == []
    cp.client.delete(f"/containers/{c['id']}?wait=true")


def test_reset_empties_the_host_and_the_control_plane_forgets_it(cp: CP) -> None:  # noqa: F811
    [(h1, _a1), (h2, a2)], ov, _ = _mesh(cp)
    c2 = cp.client.post(
        "/containers?wait=true",
        json={"host_id": h2, "name": "db", "image": "img", "networks": [{"network": "ov"}]},
    ).json()
    assert c2["status"] == "converged"
    cp.client.put(f"/hosts/{h2}/exposed/{ov['id']}?wait=true")
    _problem(cp.client.post("/hosts/999/reset"), 404, None)
    r = cp.client.post(f"/hosts/{h2}/reset")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["removed"]["containers"] == ["db"]
    assert body["forgotten"]["containers"] == ["db"]
    assert body["forgotten"]["peerings"] == ["h1-h2"]
    assert len(body["forgotten"]["exposed"]) == 1
    assert a2.containers == {} and a2.overlays == {}
    assert cp.client.get("/peerings").json() == []
    assert [c["name"] for c in cp.client.get("/containers").json()] == ["web"]
    ipam = cp.client.get("/ipam").json()[0]
    assert {b["host"] for b in ipam["blocks"]} <= {"h1"} and ipam["addresses"] == []
    assert cp.client.get("/exposed").json() == []
    # The host stays registered and nothing comes back on it.
    assert [h["name"] for h in cp.client.get("/hosts").json()] == ["h1", "h2"]
    eventually(lambda: _records(cp, h1).get("db") is None, timeout=5)
    cp.client.post(f"/hosts/{h2}/reset")  # twice is fine
    assert a2.containers == {} and a2.overlays == {}


def test_20_concurrent_exposes_give_one_address_per_host(cp: CP) -> None:  # noqa: F811
    """Held by the database: one exposed address per host and overlay, none handed out twice."""
    [(h1, a1), (h2, a2)], ov, _ = _mesh(cp)

    def expose(host: int) -> str:
        r = cp.client.put(f"/hosts/{host}/exposed/{ov['id']}")
        assert r.status_code == 200, r.text
        return str(r.json()["address"])

    with ThreadPoolExecutor(20) as pool:
        got = list(pool.map(expose, [h1, h2] * 10))
    by_host = {
        h: {a for h2_, a in zip([h1, h2] * 10, got, strict=True) if h2_ == h} for h in (h1, h2)
    }
    assert all(len(v) == 1 for v in by_host.values()) and by_host[h1] != by_host[h2]
    assert len(cp.client.get("/exposed").json()) == 2
    eventually(lambda: len(a1.exposed.get("ov", [])) == len(a2.exposed.get("ov", [])) == 1, 5)


def test_reset_of_an_unreachable_host_is_a_503_and_changes_nothing(cp: CP) -> None:  # noqa: F811
    [(_h1, _a1), (h2, a2)], ov, _ = _mesh(cp)
    cp.client.put(f"/hosts/{h2}/exposed/{ov['id']}?wait=true")
    before = (cp.client.get("/containers").json(), cp.client.get("/exposed").json())
    a2.down = True
    _problem(cp.client.post(f"/hosts/{h2}/reset"), 503, None)
    assert (cp.client.get("/containers").json(), cp.client.get("/exposed").json()) == before
    assert len(cp.client.get("/peerings").json()) == 1
    # ps says which host could not be asked, and why.
    ps = {h["host"]: h for h in cp.client.get("/ps").json()}
    assert ps["h2"]["reachable"] is False and "refused" in ps["h2"]["reason"]
    assert ps["h1"]["reachable"] is True
    a2.down = False
    assert cp.client.post(f"/hosts/{h2}/reset").status_code == 200
    assert cp.client.get("/peerings").json() == [] and cp.client.get("/exposed").json() == []


def test_reset_refuses_a_host_running_a_stacks_containers(cp: CP) -> None:  # noqa: F811
    [(_h1, _a1), (h2, a2)], _ov, _ = _mesh(cp)
    body = {"host_id": h2, "name": "world-db-1", "image": "img", "labels": {"weft.stack": "world"}}
    assert cp.client.post("/containers?wait=true", json=body).status_code == 201
    r = cp.client.post(f"/hosts/{h2}/reset")
    _problem(r, 409, ["path", "host_id"])
    assert "world" in r.json()["detail"] and "world-db-1" in a2.containers


def test_concurrent_attaches_to_several_overlays_all_stick(cp: CP) -> None:  # noqa: F811
    """Each attach rewrites the container's networks under its host's lock: none is lost."""
    _mesh(cp)
    web = cp.client.get("/containers").json()[0]
    ids = [
        cp.client.post("/networks", json={"name": f"ov{i}", "driver": "overlay"}).json()["id"]
        for i in range(6)
    ]

    def attach(nid: int) -> int:
        return cp.client.put(f"/containers/{web['id']}/overlays/{nid}").status_code

    with ThreadPoolExecutor(12) as pool:
        assert set(pool.map(attach, ids * 2)) == {200}
    names = {a["network"] for a in cp.client.get(f"/containers/{web['id']}").json()["networks"]}
    assert names == {"br"} | {f"ov{i}" for i in range(6)}
