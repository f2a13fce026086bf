"""/peerings on the test cluster: real agents measure each other over the underlay.

h1-h2 and h2-h3 make one mesh of three. h1 measures h3 (not peered directly)
as reachable; when h3's underlay link goes down, h1 measures it unreachable and
says why; forgetting h2-h3 takes h3 out of h1's mesh.
"""

import httpx
import pytest
from pyroute2 import IPRoute

from controlplane.devcluster.cluster import Cluster

pytestmark = pytest.mark.e2e


def _port(cluster: Cluster, name: str, state: str) -> None:
    """Set a port of the underlay's switch down or up (a cable pulled, plugged back)."""
    with IPRoute(netns=cluster.layout.switch) as switch:
        switch.link("set", index=switch.link_lookup(ifname=name)[0], state=state)


def test_a_chain_of_peerings_is_one_mesh_measured_by_the_agents(
    cluster: Cluster, api: httpx.Client
) -> None:
    h1, h2, h3 = cluster.hosts[:3]
    ids = [cluster.host_ids[h.name] for h in (h1, h2, h3)]
    first = api.post("/peerings", json={"a": ids[0], "b": ids[1]})
    assert first.status_code == 201, first.text
    check = first.json()["last_check"]
    assert check["reachable"] is True and check["reason"] is None, check
    assert (check["datapath"], check["encrypted"], check["mtu"]) == ("vxlan", False, 1450)
    assert api.post("/peerings", json={"a": ids[1], "b": ids[2]}).status_code == 201
    dup = api.post("/peerings", json={"a": ids[2], "b": ids[1]})
    assert dup.status_code == 409 and dup.headers["content-type"] == "application/problem+json"

    status = api.get(f"/hosts/{ids[0]}/peers").json()
    assert status["mesh"] == sorted(h.name for h in (h1, h2, h3))
    peers = {p["name"]: p for p in status["peers"]}
    assert peers[h3.name]["direct"] is False and peers[h3.name]["reachable"] is True
    assert peers[h3.name]["address"] == h3.address and peers[h3.name]["mtu"] == 1450

    _port(cluster, h3.switch_port, "down")  # h3 falls off the underlay
    try:
        status = api.get(f"/hosts/{ids[0]}/peers").json()
        gone = {p["name"]: p for p in status["peers"]}[h3.name]
        assert gone["reachable"] is False and h3.address in gone["reason"]
        listed = {(p["a"], p["b"]): p for p in api.get("/peerings?check=true").json()}
        assert listed[(ids[1], ids[2])]["last_check"]["reachable"] is False
        assert listed[(ids[0], ids[1])]["last_check"]["reachable"] is True
    finally:
        _port(cluster, h3.switch_port, "up")
    listed = {(p["a"], p["b"]): p for p in api.get("/peerings?check=true").json()}
    assert listed[(ids[1], ids[2])]["last_check"]["reachable"] is True

    assert api.delete(f"/peerings/{listed[(ids[1], ids[2])]['id']}").status_code == 204
    assert api.get(f"/hosts/{ids[0]}/peers").json()["mesh"] == sorted([h1.name, h2.name])
