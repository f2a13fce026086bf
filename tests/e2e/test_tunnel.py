"""WireGuard between two cluster hosts, and an overlay whose VXLAN runs inside it.

On the wire (tcpdump on h1's underlay port) the encrypted overlay shows only
WireGuard packets and never the payload, while a plain overlay shows it; a
tunnel that goes down stops that link's traffic instead of falling back to
plaintext; a rotated key is taken up without recreating the network.
"""

import base64
import os
import random
import re
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import docker
import pytest
from pyroute2 import IPRoute

from controlplane.devcluster.cluster import Cluster
from controlplane.devcluster.layout import HostLayout
from tests.e2e import payload
from tests.e2e.capture import Capture
from tests.integration.cp_procs import IDLE, wait_until

pytestmark = pytest.mark.e2e

MARKER = "WEFTSECRETPAYLOAD"
SIZE = 30_000


def _agent_put(cluster: Cluster, host: HostLayout, path: str, body: dict) -> dict:
    with cluster.agent(host) as agent:
        r = agent.put(path, json=body)
    assert r.status_code == 200, r.text
    return r.json()


def _overlay(vni: int, host: HostLayout, local: str, peers: list[str], subnet: int) -> dict:
    return {
        "vni": vni,
        "subnet": f"10.{subnet}.0.0/16",
        "ip_range": f"10.{subnet}.{host.index}.0/24",
        "gateway": f"10.{subnet}.{host.index}.1",
        "local": local,
        "peers": [{"address": p} for p in peers],
    }


@pytest.fixture
def pair(cluster: Cluster) -> Iterator[tuple[HostLayout, HostLayout, list[docker.DockerClient]]]:
    h1, h2 = cluster.hosts[:2]
    engines = [cluster.engine(h1), cluster.engine(h2)]
    yield h1, h2, engines
    for e in engines:
        e.close()


def _ifname(cluster: Cluster, host: HostLayout) -> str:
    return f"weftwg{cluster.layout.name[-4:]}{host.index}"


def _tunnel(cluster: Cluster, me: HostLayout, peer: HostLayout, keys: dict, psk: str) -> dict:
    spec = {
        "interface": _ifname(cluster, me),
        "address": f"10.250.0.{me.index}/24",
        "preshared_key": psk,
        "peers": [
            {
                "public_key": keys[peer.name],
                "endpoint": f"{peer.address}:51820",
                "tunnel_address": f"10.250.0.{peer.index}",
            }
        ],
    }
    return _agent_put(cluster, me, "/v1/tunnel", spec)


def _set_link(host: HostLayout, name: str, state: str) -> None:
    with IPRoute(netns=host.name) as ns:
        ns.link("set", index=ns.link_lookup(ifname=name)[0], state=state)


def test_vxlan_inside_wireguard_hides_the_payload_and_fails_closed(
    cluster: Cluster, pair, base_python_image: str, tmp_path: Path
) -> None:
    h1, h2, (e1, e2) = pair
    keys = {}
    for h in (h1, h2):
        with cluster.agent(h) as agent:
            state = agent.get("/v1/tunnel").json()
        keys[h.name] = state["public_key"]
        private = (h.dir / "wireguard.key").read_text().strip()
        assert (
            private not in str(state) and (h.dir / "wireguard.key").stat().st_mode & 0o777 == 0o600
        )
    assert keys[h1.name] != keys[h2.name]
    psk = base64.b64encode(os.urandom(32)).decode()
    made: list[tuple[HostLayout, str]] = []
    containers = []
    try:
        for me, peer in ((h1, h2), (h2, h1)):
            t = _tunnel(cluster, me, peer, keys, psk)
            made.append((me, f"tunnel:{_ifname(cluster, me)}"))
            assert t["backend"] == "wireguard-go" and t["mtu"] == 1420
        # The encrypted overlay: VTEPs are tunnel addresses; the plain one: underlay addresses.
        vni = random.randint(10000, 19999)
        for me, peer in ((h1, h2), (h2, h1)):
            enc = _overlay(vni, me, f"10.250.0.{me.index}", [f"10.250.0.{peer.index}"], 46)
            assert (
                _agent_put(cluster, me, "/v1/overlays/wefttest-enc", enc)["overlay"]["mtu"] == 1370
            )
            made.append((me, "overlay:wefttest-enc"))
            plain = _overlay(vni + 1, me, me.address, [peer.address], 47)
            _agent_put(cluster, me, "/v1/overlays/wefttest-plain", plain)
            made.append((me, "overlay:wefttest-plain"))
        ips = {}
        for net in ("wefttest-enc", "wefttest-plain"):
            server = e2.containers.run(
                base_python_image, payload.server(MARKER, SIZE), network=net, detach=True
            )
            client = e1.containers.run(base_python_image, IDLE, network=net, detach=True)
            containers += [server, client]
            server.reload()
            ips[net] = (client, server.attrs["NetworkSettings"]["Networks"][net]["IPAddress"])

        def fetch(net: str) -> bool:
            client, ip = ips[net]
            code, out = client.exec_run(payload.fetch(ip))
            return code == 0 and out.decode().strip() == payload.body(MARKER, SIZE)

        for net in ips:
            wait_until(partial(fetch, net), 30)

        cap = Capture(cluster.layout.switch_netns_path, h1.switch_port, tmp_path / "enc.pcap")
        assert fetch("wefttest-enc")
        raw, text = cap.stop()
        # The plain overlay beside it may carry background frames (IPv6 MLD reports from its
        # bridge) at any moment, so "no VXLAN at all" is not this overlay's property; its VNI is.
        assert MARKER.encode() not in raw and ".51820:" in text
        assert not re.search(rf"vni {vni}\b", text)  # the encrypted overlay never in the clear

        cap = Capture(cluster.layout.switch_netns_path, h1.switch_port, tmp_path / "plain.pcap")
        assert fetch("wefttest-plain")
        raw, text = cap.stop()
        assert MARKER.encode() in raw and ".4789:" in text  # plain VXLAN: visible

        # h2's tunnel goes down: that link carries nothing, and nothing in plaintext.
        _set_link(h2, _ifname(cluster, h2), "down")
        cap = Capture(cluster.layout.switch_netns_path, h1.switch_port, tmp_path / "down.pcap")
        assert not fetch("wefttest-enc")
        raw, text = cap.stop()
        assert MARKER.encode() not in raw
        assert not re.search(rf"vni {vni}\b", text)  # no VXLAN of this overlay in the clear
        _set_link(h2, _ifname(cluster, h2), "up")
        wait_until(lambda: fetch("wefttest-enc"), 30)

        # Rotate h1's key: the network stays, the peers learn the new key, traffic flows again.
        with cluster.agent(h1) as agent:
            net_id = agent.get("/v1/overlays/wefttest-enc").json()["network"]["id"]
            rotated = agent.post(
                "/v1/tunnel/rotate", params={"interface": _ifname(cluster, h1)}
            ).json()
        assert rotated["public_key"] != keys[h1.name]
        keys[h1.name] = rotated["public_key"]
        _tunnel(cluster, h2, h1, keys, psk)
        wait_until(lambda: fetch("wefttest-enc"), 30)
        with cluster.agent(h1) as agent:
            assert agent.get("/v1/overlays/wefttest-enc").json()["network"]["id"] == net_id
    finally:
        for c in containers:
            c.remove(force=True)
        for host, what in reversed(made):
            kind, name = what.split(":")
            with cluster.agent(host) as agent:
                path = f"/v1/overlays/{name}" if kind == "overlay" else f"/v1/tunnel/{name}"
                agent.delete(path)


def test_bad_tunnel_specs_are_refused_naming_the_field(cluster: Cluster) -> None:
    h1 = cluster.hosts[0]
    key = base64.b64encode(os.urandom(32)).decode()
    bad: dict[str, Any] = {
        "interface": "weftwgbad1",
        "address": "10.250.0.1/24",
        "peers": [
            {"public_key": "short", "endpoint": "10.0.0.1:51820", "tunnel_address": "10.250.0.2"}
        ],
    }
    with cluster.agent(h1) as agent:
        r = agent.put("/v1/tunnel", json=bad)
        assert r.status_code == 422 and r.json()["errors"][0]["loc"][:4] == [
            "body",
            "peers",
            0,
            "public_key",
        ]
        bad["peers"][0] |= {"public_key": key, "tunnel_address": "10.251.0.2"}
        r = agent.put("/v1/tunnel", json=bad)
        assert r.status_code == 422 and "outside" in r.text
        r = agent.put("/v1/tunnel", json={**bad, "interface": "eth0"})
        assert r.status_code == 422 and r.json()["errors"][0]["loc"] == ["body", "interface"]
        assert agent.get("/v1/tunnel", params={"interface": "weftwgbad1"}).status_code == 404
