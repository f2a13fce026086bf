"""WireGuard tunnels between hosts (pure): who tunnels to whom, on which addresses, with which key.

An encrypted overlay's VXLAN runs inside WireGuard: its VTEPs are tunnel
addresses, so its frames only ever go into a tunnel (fail closed: the agent
keeps a blackhole route for the tunnel network, and a peer without a tunnel
has no WireGuard peer entry, so its frames are dropped, never sent in the
clear). A host tunnels to every host it shares an encrypted overlay with.

Tunnel addresses are not allocated: a host's is the tunnel network's address
numbered by the host's id, which the database never reuses, so no two hosts of
one control plane ever hold the same one and nothing has to be written for it.
"""

import base64
import hashlib
import hmac
import ipaddress
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass

from controlplane.contract.tunnel import (
    WIREGUARD_PORT,
    TunnelPeer,
    TunnelPeerState,
    TunnelSpec,
    TunnelState,
    psk_fingerprint,
)
from controlplane.server.reconcile.meshplan import peer_lists

# What the tunnel network defaults to: the shared address space of RFC 6598, which
# neither Docker's default pools nor the overlay pool (10.32.0.0/12) use.
DEFAULT_TUNNEL_NETWORK = "100.96.0.0/16"
# WireGuard re-handshakes every 2 minutes while packets flow (keepalives do) and
# gives a session up after 3: no handshake for that long means no tunnel.
HANDSHAKE_STALE_S = 180.0
# What a down tunnel means for its link (fail closed), as status says it.
CARRIES_NOTHING = "this link carries nothing, and nothing in plaintext"


class TunnelNetworkFull(Exception):
    """A host id beyond the tunnel network's addresses."""


def tunnel_address(network: str, host_id: int) -> str:
    """The host's address inside the tunnel network (by its never-reused id)."""
    net = ipaddress.IPv4Network(network)
    if not 0 < host_id < net.num_addresses - 1:
        raise TunnelNetworkFull(f"the tunnel network {net} has no address for host id {host_id}")
    return str(net.network_address + host_id)


def interface_name(owner: str, host_id: int) -> str:
    """The host's WireGuard interface: unique per control plane and host, so several
    hosts (and control planes) on one machine never share a name (wireguard-go's
    sockets share one directory)."""
    digest = hashlib.sha256(f"{owner}/{host_id}".encode()).digest()
    n = int.from_bytes(digest[:8], "big")
    chars = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    for _ in range(9):
        n, r = divmod(n, 36)
        out += chars[r]
    return f"weftwg{out}"


def derive_psk(password: str, owner: str) -> str:
    """The mesh's WireGuard pre-shared key from its password (`weave --password`).

    HKDF-SHA256 (RFC 5869) with the control plane's id as salt: the same password
    on two control planes gives two keys."""
    prk = hmac.new(owner.encode(), password.encode(), hashlib.sha256).digest()
    okm = hmac.new(prk, b"weft mesh psk\x01", hashlib.sha256).digest()
    return base64.b64encode(okm).decode()


def tunnel_peers(
    host_id: int,
    encrypted_spans: Iterable[Collection[int]],
    peerings: Iterable[tuple[int, int]],
) -> list[int]:
    """The hosts `host_id` tunnels to: every host sharing an encrypted overlay with it in
    its mesh, sorted."""
    pairs = list(peerings)
    out: set[int] = set()
    for members in encrypted_spans:
        if host_id in members:
            out.update(peer_lists(members, pairs)[host_id])
    return sorted(out)


@dataclass(frozen=True)
class PeerHost:
    """What a tunnel needs of another host."""

    host_id: int
    name: str
    underlay: str | None
    public_key: str | None


def tunnel_spec(
    interface: str,
    network: str,
    host_id: int,
    peers: Iterable[PeerHost],
    psk: str | None,
) -> TunnelSpec:
    """The host's WireGuard interface as it should be. A peer whose public key or
    underlay address is not known yet is left out: frames for it are dropped."""
    prefix = ipaddress.IPv4Network(network).prefixlen
    return TunnelSpec(
        interface=interface,
        address=f"{tunnel_address(network, host_id)}/{prefix}",
        preshared_key=psk,
        peers=[
            TunnelPeer(
                public_key=p.public_key,
                endpoint=f"{p.underlay}:{WIREGUARD_PORT}",
                tunnel_address=tunnel_address(network, p.host_id),
                host=p.name,
            )
            for p in peers
            if p.public_key and p.underlay
        ],
    )


def tunnel_differs(spec: TunnelSpec, seen: TunnelState) -> bool:
    """Whether the interface WireGuard reports differs from the spec: address, port, or
    any peer's endpoint, address, pre-shared key or keepalive (a peer too many or few)."""
    if seen.address != spec.address or seen.listen_port != spec.listen_port:
        return True
    psk = psk_fingerprint(spec.preshared_key) if spec.preshared_key else None
    have = {p.public_key: p for p in seen.peers}
    if set(have) != {p.public_key for p in spec.peers}:
        return True
    return any(
        have[p.public_key].endpoint != p.endpoint
        or have[p.public_key].allowed_ips != [f"{p.tunnel_address}/32"]
        or have[p.public_key].psk_fingerprint != psk
        or (have[p.public_key].persistent_keepalive or 0) != spec.persistent_keepalive
        for p in spec.peers
    )


def handshake_problem(
    peer_name: str, seen: Mapping[str, TunnelPeerState], public_key: str | None, age_s: float | None
) -> str | None:
    """Why the tunnel to a peer carries nothing (None: it is up)."""
    if public_key is None:
        return f"{peer_name} has not reported its WireGuard key yet: {CARRIES_NOTHING}"
    if public_key not in seen:
        return f"no tunnel peer entry for {peer_name} yet: {CARRIES_NOTHING}"
    if age_s is None or age_s > HANDSHAKE_STALE_S:
        since = "yet" if age_s is None else f"for {age_s:.0f} s"
        return (
            f"no WireGuard handshake with {peer_name} {since} (its tunnel is down, or the keys"
            f" or pre-shared key differ): {CARRIES_NOTHING}"
        )
    return None
