"""Encrypted overlays through the control plane, on the wire, on two real cluster hosts.

One `PUT /mesh/password` and one `POST /networks` with `encrypted: true`: the
control plane makes each host's WireGuard tunnel (wireguard-go here: the kernel
has no WireGuard), hands each agent its peer's public key, endpoint and tunnel
address and the password's pre-shared key, and runs the overlay's VXLAN between
tunnel addresses. A capture on h1's own underlay port shows WireGuard and never
the payload, while a plain overlay beside it shows the payload. h2's tunnel is
taken down behind weft's back: the link carries nothing, nothing in plaintext,
and status says why. A key rotation through the API keeps the network and the
traffic. Deleting the network removes the tunnels.
"""

import re
from pathlib import Path

import docker
import httpx
import pytest
from pyroute2 import IPRoute

from controlplane.devcluster.cluster import Cluster
from controlplane.devcluster.layout import HostLayout
from tests.e2e import payload
from tests.e2e.capture import Capture
from tests.e2e.conftest import ok
from tests.eventually import eventually
from tests.integration.cp_procs import IDLE

pytestmark = pytest.mark.e2e

SEC, PLAIN = "wefttest-sec", "wefttest-plain"
MARKER = "WEFTCPSECRETPAYLOAD"
SIZE = 30_000


def _links(host: HostLayout, prefix: str) -> list[str]:
    with IPRoute(netns=host.name) as ns:
        names = [str(x.get_attr("IFLA_IFNAME")) for x in ns.get_links()]
    return [n for n in names if n.startswith(prefix)]


def _set_link(host: HostLayout, name: str, state: str) -> None:
    with IPRoute(netns=host.name) as ns:
        ns.link("set", index=ns.link_lookup(ifname=name)[0], state=state)


def test_an_encrypted_overlay_through_the_control_plane_hides_the_payload_and_fails_closed(
    cluster: Cluster, api: httpx.Client, base_python_image: str, tmp_path: Path
) -> None:
    h1, h2 = cluster.hosts[:2]
    i1, i2 = cluster.host_ids[h1.name], cluster.host_ids[h2.name]
    ok(api.post("/peerings", json={"a": i1, "b": i2}))
    mesh = ok(api.put("/mesh/password", json={"password": "weft test mesh password"}), 200)
    assert mesh["password_set"] and "weft test mesh password" not in str(mesh)
    sec = ok(
        api.post(
            "/networks?wait=true",
            json={"name": SEC, "driver": "overlay", "host_id": i1, "encrypted": True},
        )
    )
    plain = ok(
        api.post("/networks?wait=true", json={"name": PLAIN, "driver": "overlay", "host_id": i1})
    )
    assert (sec["status"], sec["encrypted"], plain["status"]) == ("converged", True, "converged")
    both = [{"network": SEC}, {"network": PLAIN}]
    for name, hid, command in (("srv", i2, payload.server(MARKER, SIZE)), ("cli", i1, IDLE)):
        body = {"host_id": hid, "name": name, "image": base_python_image, "command": command}
        assert (
            ok(api.post("/containers?wait=true", json={**body, "networks": both}))["status"]
            == "converged"
        )

    # Each tunnel knows the other host's key (the private keys stayed on their hosts).
    mesh = ok(api.get("/mesh"), 200)
    keys = {h["name"]: h for h in mesh["hosts"] if h["name"] in (h1.name, h2.name)}
    assert all(keys[h.name]["public_key"] for h in (h1, h2))
    for host in (h1, h2):
        private = (host.dir / "wireguard.key").read_text().strip()
        assert private not in str(mesh) and (host.dir / "wireguard.key").stat().st_mode & 0o77 == 0
    iface = {h.name: keys[h.name]["interface"] for h in (h1, h2)}

    engine: docker.DockerClient = cluster.engine(h1)
    try:
        cli = engine.containers.get("cli")
        rows = {c["name"]: c for c in ok(api.get("/containers"), 200)}
        srv_ip = {net: rows["srv"]["observed"]["addresses"][net] for net in (SEC, PLAIN)}

        def fetch(net: str) -> bool:
            code, out = cli.exec_run(payload.fetch(srv_ip[net].split("/")[0]))
            return code == 0 and out.decode().strip() == payload.body(MARKER, SIZE)

        eventually(lambda: fetch(SEC), 60)
        eventually(lambda: fetch(PLAIN), 30)
        status = ok(api.get(f"/hosts/{i1}/peers"), 200)["peers"]
        peer = next(p for p in status if p["name"] == h2.name)
        assert (peer["encrypted"], peer["reachable"], peer["mtu"]) == (True, True, 1370), peer

        cap = Capture(cluster.layout.switch_netns_path, h1.switch_port, tmp_path / "sec.pcap")
        assert fetch(SEC)
        raw, text = cap.stop()
        assert MARKER.encode() not in raw and ".51820:" in text
        assert not re.search(rf"vni {sec['vni']}\b", text)  # never VXLAN in the clear
        cap = Capture(cluster.layout.switch_netns_path, h1.switch_port, tmp_path / "plain.pcap")
        assert fetch(PLAIN)
        raw, text = cap.stop()
        assert MARKER.encode() in raw and f"vni {plain['vni']}" in text  # plain: visible

        # h2's tunnel goes down behind weft's back: nothing passes, nothing in plaintext.
        _set_link(h2, iface[h2.name], "down")
        cap = Capture(cluster.layout.switch_netns_path, h1.switch_port, tmp_path / "down.pcap")
        assert not fetch(SEC)
        raw, text = cap.stop()
        assert MARKER.encode() not in raw and not re.search(rf"vni {sec['vni']}\b", text)
        status = ok(api.get(f"/hosts/{i1}/peers"), 200)["peers"]
        peer = next(p for p in status if p["name"] == h2.name)
        assert peer["reachable"] is False and "nothing in plaintext" in peer["reason"], peer
        _set_link(h2, iface[h2.name], "up")
        eventually(lambda: fetch(SEC), 60)

        # Rotate every host's key: new public keys, the same network, traffic again.
        rotated = ok(api.post("/mesh/rotate"), 200)
        new = {h["name"]: h["public_key"] for h in rotated["hosts"]}
        assert all(new[h.name] != keys[h.name]["public_key"] for h in (h1, h2))
        eventually(lambda: fetch(SEC), 60)
        assert ok(api.get(f"/networks/{sec['id']}"), 200)["vni"] == sec["vni"]
        assert engine.containers.get("cli").id == cli.id
    finally:
        engine.close()

    # Delete: the encrypted network's tunnels go with it.
    for c in api.get("/containers").json():
        assert api.delete(f"/containers/{c['id']}?wait=true").status_code == 204
    for n in (sec, plain):
        assert api.delete(f"/networks/{n['id']}?wait=true").status_code == 204
    # The overlays' VXLAN devices go first (the encrypted one's VTEP is the tunnel address),
    # then the tunnels: nothing of either stays on any host.
    left = (iface[h1.name], iface[h2.name], f"weftv{sec['vni']}", f"weftv{plain['vni']}")
    eventually(lambda: not any(_links(h, p) for h in (h1, h2) for p in left), 30)
    assert all(h["public_key"] is None for h in ok(api.get("/mesh"), 200)["hosts"])
