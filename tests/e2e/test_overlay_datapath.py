"""The agent's overlay datapath on the test cluster: VXLAN between two real hosts.

Each host's agent makes a Docker bridge network on its own range of one subnet
and a kernel VXLAN device on its bridge with flood entries for the other host.
A container on h1 then fetches a payload larger than the MTU from a server
container on h2 (TCP, across the underlay); taking the peer out of h1's list
cuts the path, putting it back restores it.
"""

import random
import time

import docker
import pytest

from controlplane.devcluster.cluster import Cluster
from controlplane.devcluster.layout import HostLayout
from tests.e2e import payload
from tests.integration.cp_procs import IDLE, wait_until

pytestmark = pytest.mark.e2e

SUBNET = "10.44.0.0/16"
SIZE = 200_000


def _spec(vni: int, host: HostLayout, peers: list[HostLayout]) -> dict[str, object]:
    return {
        "vni": vni,
        "subnet": SUBNET,
        "ip_range": f"10.44.{host.index}.0/24",
        "gateway": f"10.44.{host.index}.1",
        "local": host.address,
        "peers": [{"address": p.address, "host": p.name} for p in peers],
    }


def _put(cluster: Cluster, host: HostLayout, name: str, spec: dict[str, object]) -> dict:
    with cluster.agent(host) as agent:
        r = agent.put(f"/v1/overlays/{name}", json=spec)
    assert r.status_code == 200, r.text
    return r.json()


def test_a_container_on_h1_reaches_a_server_on_h2_across_the_vxlan(
    cluster: Cluster, engines: list[docker.DockerClient], base_python_image: str
) -> None:
    h1, h2 = cluster.hosts[:2]
    e1, e2 = engines[:2]
    vni, name = random.randint(1000, 9999), "wefttest-ov"
    first = _put(cluster, h1, name, _spec(vni, h1, [h2]))
    assert first["action"] == "created"
    ov = first["overlay"]
    assert (ov["mtu"], ov["underlay_mtu"], ov["underlay_device"]) == (1450, 1500, "eth0")
    assert ov["peers"] == [h2.address] and ov["network"]["ip_range"] == "10.44.1.0/24"
    assert _put(cluster, h2, name, _spec(vni, h2, [h1]))["action"] == "created"
    again = _put(cluster, h1, name, _spec(vni, h1, [h2]))
    assert again["action"] == "unchanged"  # idempotent

    server = e2.containers.run(
        base_python_image, payload.server("h2", SIZE), network=name, detach=True
    )
    # h1's agent is the client's DNS server (through its gateway), as the control plane sets it.
    client = e1.containers.run(
        base_python_image,
        IDLE,
        network=name,
        dns=["10.44.1.1"],
        dns_search=["weave.local"],
        detach=True,
    )
    try:
        server.reload()
        client.reload()
        server_ip = server.attrs["NetworkSettings"]["Networks"][name]["IPAddress"]
        client_ip = client.attrs["NetworkSettings"]["Networks"][name]["IPAddress"]
        assert server_ip.startswith("10.44.2.") and client_ip.startswith("10.44.1.")
        mtu = client.exec_run(["cat", "/sys/class/net/eth0/mtu"]).output.decode().strip()
        assert mtu == "1450"

        def fetched() -> bool:
            code, out = client.exec_run(payload.fetch(server_ip))
            return code == 0 and out.decode().strip() == payload.body("h2", SIZE)

        wait_until(fetched, 30)

        # By name: h1's agent answers srv.weave.local; a move is answered at once.
        _dns(cluster, h1, {"srv": [server_ip]})
        code, out = client.exec_run(payload.fetch("srv"))
        assert code == 0 and out.decode().strip() == payload.body("h2", SIZE), out[-300:]
        assert client.exec_run(payload.fetch("srv.weave.local")).exit_code == 0
        _dns(cluster, h1, {"srv": ["10.44.2.250"]})
        started = time.monotonic()
        code, out = client.exec_run(["getent", "hosts", "srv.weave.local"])
        assert time.monotonic() - started < 1 and out.decode().split()[0] == "10.44.2.250"
        _dns(cluster, h1, {"srv": [server_ip]})

        # h1 forgets h2: its flood entry and the learned ones toward h2 go, the path is cut.
        cut = _put(cluster, h1, name, _spec(vni, h1, []))
        assert cut["action"] == "updated" and cut["overlay"]["peers"] == []
        assert client.exec_run(payload.fetch(server_ip)).exit_code != 0
        back = _put(cluster, h1, name, _spec(vni, h1, [h2]))
        assert back["action"] == "updated" and back["overlay"]["peers"] == [h2.address]
        wait_until(fetched, 30)

        # Delete is refused while a container is attached, and changes nothing.
        with cluster.agent(h2) as agent:
            r = agent.delete(f"/v1/overlays/{name}")
            assert r.status_code == 409, r.text
            assert r.headers["content-type"] == "application/problem+json"
            assert agent.get(f"/v1/overlays/{name}").json()["peers"] == [h1.address]
    finally:
        server.remove(force=True)
        client.remove(force=True)
    for host, engine in zip((h1, h2), (e1, e2), strict=True):
        with cluster.agent(host) as agent:
            assert agent.delete(f"/v1/overlays/{name}").status_code == 204
            assert agent.delete(f"/v1/overlays/{name}").status_code == 204  # absent: fine
            assert agent.get(f"/v1/overlays/{name}").status_code == 404
        assert not engine.networks.list(names=[name])
        assert _links(engine, host, f"weftv{vni}") == []


def _dns(cluster: Cluster, host: HostLayout, records: dict[str, list[str]]) -> None:
    body = {"records": [{"name": k, "addresses": v} for k, v in records.items()]}
    with cluster.agent(host) as agent:
        r = agent.put("/v1/dns", json=body)
    assert r.status_code == 200, r.text


def _links(engine: docker.DockerClient, host: HostLayout, device: str) -> list[str]:
    from pyroute2 import IPRoute

    with IPRoute(netns=host.name) as ns:
        return [
            str(x.get_attr("IFLA_IFNAME"))
            for x in ns.get_links()
            if x.get_attr("IFLA_IFNAME") == device
        ]


@pytest.mark.parametrize(
    ("change", "loc"),
    [
        ({"ip_range": "10.45.0.0/24"}, ["body"]),  # outside the subnet
        ({"vni": 0}, ["body", "vni"]),
        ({"local": "10.231.254.254"}, ["body", "local"]),  # not this host's address
        ({"peers": [{"address": "not-an-ip"}]}, ["body", "peers", 0, "address"]),
    ],
)
def test_bad_overlay_specs_are_refused_naming_the_field_and_change_nothing(
    cluster: Cluster, change: dict[str, object], loc: list[object]
) -> None:
    h1, h2 = cluster.hosts[:2]
    spec = {**_spec(4321, h1, [h2]), **change}
    with cluster.agent(h1) as agent:
        r = agent.put("/v1/overlays/wefttest-bad", json=spec)
        assert r.status_code == 422, r.text
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["errors"][0]["loc"][: len(loc)] == loc
        assert agent.get("/v1/overlays/wefttest-bad").status_code == 404
