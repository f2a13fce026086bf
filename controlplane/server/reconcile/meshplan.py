"""Meshes and overlay peer lists (pure): who each host's VXLAN sends to.

Hosts joined by peerings, directly or through others, form one mesh (connect a
new host to any member and it reaches all of them). An overlay network spans a
mesh, or the listed hosts of it; every host of the network floods to every other
host of the network in its mesh, never to a host in another mesh, never to itself.
"""

from collections.abc import Collection, Iterable, Mapping
from typing import TypeVar

from controlplane.contract.overlay import VXLAN_OVERHEAD

# Hosts by name or by id.
H = TypeVar("H", str, int)

# WireGuard over IPv4: outer IP 20 + UDP 8 + its header 32, rounded up as wg-quick does.
WIREGUARD_OVERHEAD = 80


def meshes(hosts: Iterable[H], peerings: Iterable[tuple[H, H]]) -> list[frozenset[H]]:
    """The connected groups of hosts under the peerings (a host alone is its own mesh)."""
    parent = {h: h for h in hosts}

    def root(h: H) -> H:
        while parent[h] != h:
            parent[h] = parent[parent[h]]
            h = parent[h]
        return h

    for a, b in peerings:
        for h in (a, b):
            parent.setdefault(h, h)
        ra, rb = root(a), root(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    groups: dict[H, set[H]] = {}
    for h in parent:
        groups.setdefault(root(h), set()).add(h)
    return sorted((frozenset(g) for g in groups.values()), key=lambda g: min(g))


def mesh_of(host: H, hosts: Iterable[H], peerings: Iterable[tuple[H, H]]) -> frozenset[H]:
    """The mesh `host` belongs to."""
    for group in meshes(hosts, peerings):
        if host in group:
            return group
    return frozenset({host})


def peer_lists(network_hosts: Collection[H], peerings: Iterable[tuple[H, H]]) -> dict[H, list[H]]:
    """For each host of the network: the other hosts of the network in its mesh, sorted."""
    groups = meshes(network_hosts, peerings)
    out: dict[H, list[H]] = {}
    for group in groups:
        members = sorted(h for h in group if h in network_hosts)
        for h in members:
            out[h] = [p for p in members if p != h]
    return {h: out[h] for h in sorted(network_hosts)}


def overlay_mtu(underlay_mtus: Mapping[str, int], encrypted: bool = False) -> int:
    """The overlay's MTU: the smallest underlay MTU minus VXLAN's 50 bytes, and minus
    WireGuard's 80 more when the VXLAN runs inside a tunnel."""
    if not underlay_mtus:
        raise ValueError("an overlay without hosts has no MTU")
    return min(underlay_mtus.values()) - VXLAN_OVERHEAD - (WIREGUARD_OVERHEAD if encrypted else 0)


def overlay_span(
    anchor: H, listed: Collection[H], hosts: Iterable[H], peerings: Iterable[tuple[H, H]]
) -> frozenset[H]:
    """The hosts an overlay spans now: its anchor's mesh, only the `listed` ones if any."""
    mesh = mesh_of(anchor, hosts, peerings)
    return frozenset(h for h in mesh if not listed or h in listed)
