"""Encrypted overlays through the API with fake agents: tunnels, keys, password, status.

The pure parts (addresses, names, the pre-shared key, who tunnels to whom) first;
then the control plane driving fake agents (the HTTP seam). The real datapath, on
the wire, is in tests/e2e/test_encrypted_mesh.py.
"""

import itertools
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from controlplane.contract.tunnel import IFNAME_PATTERN, TunnelPeerState, TunnelSpec, TunnelState
from controlplane.server.reconcile import tunnelplan
from tests.eventually import eventually
from tests.unit.cp_app import CP, control_plane
from tests.unit.cp_fake_agent import FakeAgent
from tests.unit.cp_fake_tunnel import new_key

NET = "100.96.0.0/16"


def test_tunnel_addresses_are_numbered_by_host_id_and_bounded() -> None:
    assert tunnelplan.tunnel_address(NET, 1) == "100.96.0.1"
    assert tunnelplan.tunnel_address(NET, 300) == "100.96.1.44"
    with pytest.raises(tunnelplan.TunnelNetworkFull):
        tunnelplan.tunnel_address("100.96.0.0/30", 3)  # .3 is the broadcast address


def test_interface_names_fit_the_kernel_and_differ_per_control_plane_and_host() -> None:
    names = {tunnelplan.interface_name(o, h) for o in ("cp-a", "cp-b") for h in range(1, 200)}
    assert len(names) == 398
    assert all(re.fullmatch(IFNAME_PATTERN, n) and len(n) <= 15 for n in names)


def test_the_pre_shared_key_is_derived_per_password_and_control_plane() -> None:
    psk = tunnelplan.derive_psk("correct horse", "cp-a")
    assert psk == tunnelplan.derive_psk("correct horse", "cp-a")
    assert psk != tunnelplan.derive_psk("correct horse", "cp-b")
    assert psk != tunnelplan.derive_psk("correct horsf", "cp-a")
    TunnelSpec(interface="weftwgx", address="100.96.0.1/16", preshared_key=psk)  # a WG key


def test_a_host_tunnels_to_the_hosts_it_shares_an_encrypted_overlay_with_in_its_mesh() -> None:
    pairs = [(1, 2), (2, 3), (4, 5)]
    spans = [frozenset({1, 2, 3}), frozenset({4, 5}), frozenset({3, 6})]
    assert tunnelplan.tunnel_peers(1, spans, pairs) == [2, 3]
    assert tunnelplan.tunnel_peers(3, spans, pairs) == [1, 2]  # 6 is in another mesh
    assert tunnelplan.tunnel_peers(4, spans, pairs) == [5]
    assert tunnelplan.tunnel_peers(7, spans, pairs) == []


def test_a_tunnel_differs_on_any_peer_field_but_not_otherwise() -> None:
    key = new_key()
    peers = [tunnelplan.PeerHost(2, "h2", "10.0.0.2", key), tunnelplan.PeerHost(3, "h3", None, key)]
    spec = tunnelplan.tunnel_spec("weftwgx", NET, 1, peers, new_key())
    assert [p.endpoint for p in spec.peers] == ["10.0.0.2:51820"]  # h3: no underlay yet
    peer = TunnelPeerState(
        public_key=key,
        endpoint="10.0.0.2:51820",
        allowed_ips=["100.96.0.2/32"],
        latest_handshake=None,
        rx_bytes=0,
        tx_bytes=0,
        persistent_keepalive=25,
        psk_fingerprint=tunnelplan.psk_fingerprint(spec.preshared_key or ""),
    )
    seen = TunnelState(
        public_key=new_key(), interface="weftwgx", address="100.96.0.1/16", listen_port=51820
    )
    assert not tunnelplan.tunnel_differs(spec, seen.model_copy(update={"peers": [peer]}))
    for change in (
        {"endpoint": "10.0.0.9:51820"},
        {"allowed_ips": ["100.96.0.9/32"]},
        {"psk_fingerprint": None},
        {"persistent_keepalive": None},
    ):
        changed = seen.model_copy(update={"peers": [peer.model_copy(update=change)]})
        assert tunnelplan.tunnel_differs(spec, changed), change
    assert tunnelplan.tunnel_differs(spec, seen)  # the peer is missing


@pytest.fixture
def cp(tmp_path: Path) -> Iterator[CP]:
    with control_plane(tmp_path) as c:
        yield c


def _meshed(cp: CP, n: int) -> list[tuple[int, FakeAgent]]:
    out = []
    for i in range(1, n + 1):
        hid, agent = cp.add_host(f"h{i}")
        agent.addresses = [f"10.231.8.{i + 1}"]
        out.append((hid, agent))
    for (a, _), (b, _) in itertools.pairwise(out):
        assert cp.client.post("/peerings", json={"a": a, "b": b}).status_code == 201
    return out


def _peers(agent: FakeAgent) -> dict[str, str]:
    spec = agent.tunnel.spec
    return {p.public_key: p.tunnel_address for p in spec.peers} if spec else {}


def test_an_encrypted_overlay_runs_its_vxlan_between_tunnel_addresses(cp: CP) -> None:
    (h1, a1), (h2, a2) = _meshed(cp, 2)
    r = cp.client.post(
        "/networks",
        json={"name": "sec", "driver": "overlay", "encrypted": True},
        params={"wait": 1},
    )
    assert r.status_code == 201 and r.json()["encrypted"] is True, r.text
    t1, t2 = (tunnelplan.tunnel_address(NET, h) for h in (h1, h2))

    def both_tunnelled() -> bool:
        return _peers(a1) == {a2.tunnel.public_key: t2} and _peers(a2) == {a1.tunnel.public_key: t1}

    eventually(both_tunnelled, timeout=10)
    assert a1.tunnel.spec is not None and a1.tunnel.spec.peers[0].endpoint == "10.231.8.3:51820"
    eventually(lambda: "sec" in a1.overlays and "sec" in a2.overlays, timeout=10)
    # Fail closed: the VXLAN's source and its peers are tunnel addresses, never underlay ones.
    assert (a1.overlays["sec"].local, a1.overlays["sec"].peers) == (t1, [t2])
    assert (a2.overlays["sec"].local, a2.overlays["sec"].peers) == (t2, [t1])
    mesh = cp.client.get("/mesh").json()
    assert [(h["name"], h["tunnel_address"]) for h in mesh["hosts"]] == [("h1", t1), ("h2", t2)]
    assert mesh["password_set"] is False and a1.tunnel.spec.preshared_key is None

    # Status measures the tunnel: up while WireGuard reports handshakes, down (and why) not.
    # (These fake agents cannot probe the underlay, so the peer is unreachable anyway.)
    (peer,) = cp.client.get(f"/hosts/{h1}/peers").json()["peers"]
    assert peer["encrypted"] is True and "handshake" not in peer["reason"], peer
    a1.tunnel.silent.add(a2.tunnel.public_key)
    (peer,) = cp.client.get(f"/hosts/{h1}/peers").json()["peers"]
    assert peer["reachable"] is False and "no WireGuard handshake with h2" in peer["reason"]
    assert "nothing in plaintext" in peer["reason"]


def test_the_mesh_password_and_key_rotation_reach_every_tunnel(cp: CP) -> None:
    (_h1, a1), (_h2, a2), (_h3, a3) = _meshed(cp, 3)
    assert (
        cp.client.post(
            "/networks", json={"name": "sec", "driver": "overlay", "encrypted": True}
        ).status_code
        == 201
    )
    eventually(lambda: all(len(_peers(a)) == 2 for a in (a1, a2, a3)), timeout=10)
    r = cp.client.put("/mesh/password", json={"password": "short"})
    assert r.status_code == 422 and r.json()["errors"][0]["loc"] == ["body", "password"]
    r = cp.client.put("/mesh/password", json={"password": "correct horse battery"})
    assert r.status_code == 200 and "correct horse" not in r.text, r.text
    want = r.json()["psk_fingerprint"]

    def keyed(fp: str | None) -> bool:
        return all(
            a.tunnel.state is not None and {p.psk_fingerprint for p in a.tunnel.state.peers} == {fp}
            for a in (a1, a2, a3)
        )

    eventually(lambda: keyed(want), timeout=10)
    old = {a.tunnel.public_key for a in (a1, a2, a3)}
    rotated = cp.client.post("/mesh/rotate").json()
    new = {h["public_key"] for h in rotated["hosts"]}
    assert len(new) == 3 and not new & old
    # Every peer list follows the new keys; the network was not recreated.
    eventually(lambda: all(set(_peers(a)) == new - {a.tunnel.public_key} for a in (a1, a2, a3)))
    assert cp.client.get("/networks").json()[0]["vni"] == rotated_vni(cp)
    assert cp.client.delete("/mesh/password").status_code == 204
    eventually(lambda: keyed(None), timeout=10)


def rotated_vni(cp: CP) -> int:
    """The network's VNI (unchanged by a rotation)."""
    return cp.client.get("/networks").json()[0]["vni"]


def test_a_bridge_is_never_encrypted_and_the_last_encrypted_overlay_takes_the_tunnels(
    cp: CP,
) -> None:
    (h1, a1), (_h2, a2) = _meshed(cp, 2)
    body = {"name": "b", "host_id": h1, "subnet": "10.231.77.0/24", "encrypted": True}
    r = cp.client.post("/networks", json=body)
    assert r.status_code == 422 and r.json()["errors"][0]["loc"] == ["body", "encrypted"]
    plain = cp.client.post("/networks", json={"name": "plain", "driver": "overlay"}).json()
    sec = cp.client.post(
        "/networks", json={"name": "sec", "driver": "overlay", "encrypted": True}
    ).json()
    eventually(lambda: a1.tunnel.state is not None and a2.tunnel.state is not None, timeout=10)
    assert a1.overlays["plain"].local == "10.231.8.2"  # the plain one stays on the underlay
    assert cp.client.delete(f"/networks/{sec['id']}", params={"wait": 1}).status_code == 204
    eventually(lambda: a1.tunnel.state is None and a2.tunnel.state is None, timeout=10)
    assert [h["public_key"] for h in cp.client.get("/mesh").json()["hosts"]] == [None, None]
    assert cp.client.get(f"/networks/{plain['id']}").status_code == 200
