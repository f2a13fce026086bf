"""The overlay fast path on the test cluster: frames between hosts skip the bridges.

Each host's agent keeps an nftables netdev table per overlay: frames from its
containers to the subnet's addresses on other hosts go straight to the VXLAN
device, and frames for its containers straight from it to their veths. The test
follows real traffic through the table's counters, and checks that what must
stay on the bridge does: a container on the same host (one holding an address
outside the host's range, which only the agent knows is here), and the host's
own exposed address. A restarted server gets a new veth; the table follows it.
"""

import random
from typing import Any

import docker
import pytest

from controlplane.devcluster.cluster import Cluster
from controlplane.devcluster.layout import HostLayout, overlay_spec
from tests.e2e import payload
from tests.e2e.nft import netdev_table
from tests.integration.cp_procs import IDLE, wait_until

pytestmark = pytest.mark.e2e

SIZE = 300_000
EXPOSED = "10.46.9.9"  # in the subnet, outside every host's range
NEAR = "10.46.8.8"  # a container on h1 given an address outside h1's range


def _spec(vni: int, host: HostLayout, peer: HostLayout) -> dict[str, object]:
    """Subnet 10.46.0.0/16, the host's range 10.46.<index>.0/24."""
    return overlay_spec(vni, host, 46, peers=[peer.address]).model_dump(mode="json")


def _agent(cluster: Cluster, host: HostLayout, method: str, path: str, body: object = None) -> Any:
    with cluster.agent(host) as agent:
        r = agent.request(method, path, json=body)
    assert r.is_success, r.text
    return r.json() if r.content else None


def _table(host: HostLayout, vni: int) -> list[dict[str, Any]]:
    """The host's fast-path table of the overlay."""
    return netdev_table(host, f"weft_fp_{vni}")


def _rules(host: HostLayout, vni: int) -> dict[str, dict[str, Any]]:
    """The table's two rules by chain (tx, rx), with their counters."""
    return {o["rule"]["chain"]: o["rule"] for o in _table(host, vni) if "rule" in o}


def _packets(rule: dict[str, Any]) -> int:
    return next(int(e["counter"]["packets"]) for e in rule["expr"] if "counter" in e)


def _ports(host: HostLayout, vni: int) -> dict[str, str]:
    """The rx map: container MAC -> host-side veth."""
    rx = _rules(host, vni).get("rx")
    if rx is None:
        return {}
    fwd = next(e["fwd"] for e in rx["expr"] if "fwd" in e)
    return {mac: port for mac, port in fwd["dev"]["map"]["data"]["set"]}


def _endpoint(container: Any, network: str) -> tuple[str, str]:
    container.reload()
    net = container.attrs["NetworkSettings"]["Networks"][network]
    return net["IPAddress"], net["MacAddress"]


def test_traffic_between_hosts_takes_the_fast_path_and_the_rest_keeps_the_bridge(
    cluster: Cluster, engines: list[docker.DockerClient], base_python_image: str
) -> None:
    h1, h2 = cluster.hosts[:2]
    e1, e2 = engines[:2]
    vni, name = random.randint(1000, 9999), "wefttest-fp"
    _agent(cluster, h1, "PUT", f"/v1/overlays/{name}", _spec(vni, h1, h2))
    _agent(cluster, h2, "PUT", f"/v1/overlays/{name}", _spec(vni, h2, h1))
    run = {"network": name, "detach": True}
    server = e2.containers.run(base_python_image, payload.server("far", SIZE), **run)
    near = e1.containers.create(
        base_python_image,
        payload.server("near", SIZE),
        network=name,
        networking_config={name: e1.api.create_endpoint_config(ipv4_address=NEAR)},
    )
    near.start()
    client = e1.containers.run(base_python_image, IDLE, **run)
    try:
        server_ip, server_mac = _endpoint(server, name)
        near_ip, near_mac = _endpoint(near, name)
        _, client_mac = _endpoint(client, name)

        # Each agent follows its containers' joins: both of h1's, h2's one.
        wait_until(lambda: set(_ports(h1, vni)) == {near_mac, client_mac}, 15)
        wait_until(lambda: set(_ports(h2, vni)) == {server_mac}, 15)
        overlay = _agent(cluster, h1, "GET", f"/v1/overlays/{name}")
        assert overlay["fast_path"] == 2

        def fetched(ip: str, text: str) -> bool:
            code, out = client.exec_run(payload.fetch(ip))
            return code == 0 and out.decode().strip() == payload.body(text, SIZE)

        before = {h.name: {c: _packets(r) for c, r in _rules(h, vni).items()} for h in (h1, h2)}
        wait_until(lambda: fetched(server_ip, "far"), 30)
        after = {h.name: {c: _packets(r) for c, r in _rules(h, vni).items()} for h in (h1, h2)}
        # The request left h1 by its tx rule and reached the server by h2's rx map; the
        # 300 kB answer left h2 by its tx rule and reached the client by h1's rx map.
        for host in (h1, h2):
            for chain in ("tx", "rx"):
                assert after[host.name][chain] > before[host.name][chain], (host.name, chain)
        assert after[h2.name]["tx"] - before[h2.name]["tx"] >= 5  # the body, in several frames

        # A neighbour on the same host is not "another host", though its address is
        # outside h1's range: the bridge carries it.
        assert near_ip == NEAR
        tx_before = _packets(_rules(h1, vni)["tx"])
        assert fetched(near_ip, "near")
        assert _packets(_rules(h1, vni)["tx"]) == tx_before

        # The host's exposed address is outside its range, and still this host's: the
        # client reaches it (the host refuses the port at once) instead of the VXLAN.
        _agent(cluster, h1, "PUT", f"/v1/overlays/{name}/exposed/{EXPOSED}")
        probe = (
            "import socket, sys; s = socket.socket(); s.settimeout(3)\n"
            "try: s.connect((sys.argv[1], 9))\n"
            "except ConnectionRefusedError: print('refused')\n"
            "except OSError as e: print('lost', e)"
        )
        out = client.exec_run(["python3", "-c", probe, EXPOSED]).output.decode()
        assert out.strip() == "refused", out

        # A restarted server gets a new veth on h2; the map follows it, traffic resumes.
        old = _ports(h2, vni)[server_mac]
        server.restart(timeout=1)
        server_ip, server_mac = _endpoint(server, name)
        wait_until(lambda: _ports(h2, vni).get(server_mac) not in (None, old), 15)
        wait_until(lambda: fetched(server_ip, "far"), 30)
    finally:
        for container in (server, near, client):
            container.remove(force=True)
    # Its containers gone, a host keeps no table; a deleted overlay leaves none either.
    wait_until(lambda: _table(h1, vni) == [] and _table(h2, vni) == [], 15)
    for host in (h1, h2):
        _agent(cluster, host, "DELETE", f"/v1/overlays/{name}/exposed/{EXPOSED}")
        _agent(cluster, host, "DELETE", f"/v1/overlays/{name}")
        assert _table(host, vni) == []
