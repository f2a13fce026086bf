"""One host's part of every overlay: the specs it is sent, its containers' addresses, its DNS.

Read from the database each pass (the reconciler keeps nothing between passes):
an overlay spans its anchor host's mesh now (`meshplan.overlay_span`), plus any
host whose containers still hold addresses on it. A host that left the mesh
keeps its overlay and range while its containers do (with no peers: cut off,
never handed a range someone else uses); once they are gone its blocks go back
to the pool. Addresses come from the central IPAM (`overlaystore`), and every
host gets the whole mesh's `*.weave.local` records (`dnsplan`).
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal
from urllib.parse import urlsplit

from sqlmodel import col, select

from controlplane.contract import labels
from controlplane.contract.dns import DEFAULT_DOMAIN, DnsRecordSet
from controlplane.contract.overlay import OverlayPeer, OverlaySpec
from controlplane.contract.schemas import RUNNING_STATES
from controlplane.contract.tunnel import TunnelSpec
from controlplane.server.db import SessionMaker
from controlplane.server.models import (
    Container,
    Host,
    Meta,
    Network,
    OverlayAddress,
    OverlayBlock,
    Peering,
)
from controlplane.server.reconcile import ipam, overlaystore
from controlplane.server.reconcile.dnsplan import OverlayEndpoint, records
from controlplane.server.reconcile.meshplan import mesh_of, overlay_span, peer_lists
from controlplane.server.reconcile.planner import DesiredContainer, DesiredOverlay
from controlplane.server.reconcile.tunnelplan import (
    PeerHost,
    interface_name,
    tunnel_address,
    tunnel_peers,
    tunnel_spec,
)

OVERLAY: Literal["overlay"] = "overlay"
# The Meta row holding the mesh's pre-shared key, sealed (set from the mesh password).
MESH_PSK = "mesh_psk"


@dataclass(frozen=True)
class TunnelConfig:
    """How this control plane's tunnels are made: their network, and how to open the
    sealed pre-shared key."""

    network: str
    open_sealed: Callable[[str], str]


def underlay_address(host: Host) -> str | None:
    """Where other hosts reach this one: its first reported address, else its agent's host."""
    if host.addresses:
        return host.addresses[0]
    return urlsplit(host.agent_url).hostname


@dataclass
class HostOverlays:
    """What one host should have of the overlays, and what its containers get from them."""

    overlays: list[DesiredOverlay] = field(default_factory=list)
    # Container id -> network name -> its address there (from the central IPAM).
    addresses: dict[int, dict[str, str]] = field(default_factory=dict)
    # Network name -> this host's gateway on it (where its DNS responder answers).
    gateways: dict[str, str] = field(default_factory=dict)
    # Network id -> why its part here cannot be planned (its subnet is full).
    failures: dict[int, str] = field(default_factory=dict)
    # Network id -> the generation its part here was planned from.
    generations: dict[int, int] = field(default_factory=dict)
    # The record set to serve; None when no overlay touches the host.
    dns: DnsRecordSet | None = None
    # The host's WireGuard interface; None when no encrypted overlay spans it.
    tunnel: TunnelSpec | None = None
    # The host's address in the tunnel network (an encrypted overlay's VTEP here).
    tunnel_address: str = ""
    # The encrypted overlays' ids on this host (their part fails with the tunnel).
    encrypted: set[int] = field(default_factory=set)


@dataclass(frozen=True)
class _World:
    hosts: dict[int, Host]
    peerings: list[tuple[int, int]]
    overlays: list[Network]
    containers: list[Container]
    blocks: list[OverlayBlock]
    addresses: list[OverlayAddress]
    psk_sealed: str | None = None


async def _load(sessions: SessionMaker) -> _World:
    """Everything a pass needs, in one session (most passes then write nothing)."""
    async with sessions() as session:
        hosts = {h.id or 0: h for h in await session.exec(select(Host))}
        pairs = [(p.host_a_id, p.host_b_id) for p in await session.exec(select(Peering))]
        nets = list(await session.exec(select(Network).where(Network.driver == OVERLAY)))
        if not nets:
            return _World(hosts, pairs, [], [], [], [])
        containers = list(await session.exec(select(Container)))
        blocks = list(await session.exec(select(OverlayBlock).order_by(col(OverlayBlock.id))))
        addresses = list(await session.exec(select(OverlayAddress)))
        psk = await session.get(Meta, MESH_PSK) if any(n.encrypted for n in nets) else None
    return _World(hosts, pairs, nets, containers, blocks, addresses, psk.value if psk else None)


def _attached(containers: Sequence[Container], host_id: int, network: str) -> list[Container]:
    return [
        c
        for c in containers
        if c.host_id == host_id and any(a.network == network for a in c.spec.networks)
    ]


async def host_overlays(
    sessions: SessionMaker, host_id: int, owner: str, tunnels: TunnelConfig
) -> HostOverlays:
    """The host's overlays (reserving its blocks and its containers' addresses), its
    tunnel and DNS."""
    world = await _load(sessions)
    out = HostOverlays(tunnel_address=tunnel_address(tunnels.network, host_id))
    if not world.overlays:
        return out
    me = world.hosts.get(host_id)
    local = underlay_address(me) if me is not None else None
    encrypted_spans: list[frozenset[int]] = []
    wrote = False
    for net in world.overlays:
        nid = net.id or 0
        span = overlay_span(net.host_id, net.hosts, world.hosts, world.peerings)
        held = {a.host_id for a in world.addresses if a.network_id == nid}
        members = span | (held & set(world.hosts))
        if any(b.network_id == nid and b.host_id not in members for b in world.blocks):
            await overlaystore.release_departed(sessions, nid, members)
        if net.encrypted:
            encrypted_spans.append(members)
        if host_id not in members or local is None:
            continue
        mine = _attached(world.containers, host_id, net.name)
        ids = {c.id or 0 for c in mine}
        have = {
            a.container_id: a.address
            for a in world.addresses
            if a.network_id == nid and a.host_id == host_id and a.container_id is not None
        }
        if set(have) - ids:
            await overlaystore.release(sessions, nid, host_id, ids)
        blocks = [b.block for b in world.blocks if b.network_id == nid and b.host_id == host_id]
        try:
            for cid in sorted(ids):
                if cid not in have:
                    have[cid] = await overlaystore.address_of(sessions, net, host_id, cid)
                    wrote = True
            if wrote or not blocks:
                blocks = await overlaystore.host_blocks(sessions, net, host_id, len(mine))
                wrote = True
        except overlaystore.IpamExhausted as exc:
            # The others of the host carry on; this network says why it cannot here.
            out.failures[nid] = str(exc)
            continue
        for cid in ids:
            out.addresses.setdefault(cid, {})[net.name] = have[cid]
        gateway = ipam.gateway(net.subnet, blocks)
        out.gateways[net.name] = gateway
        others = peer_lists(members, world.peerings)[host_id]
        vtep = local
        if net.encrypted:
            # Fail closed: the VTEPs are tunnel addresses, so VXLAN goes only into tunnels.
            out.encrypted.add(nid)
            vtep = out.tunnel_address
            peers = [
                OverlayPeer(address=tunnel_address(tunnels.network, p), host=world.hosts[p].name)
                for p in others
            ]
        else:
            peers = [
                OverlayPeer(address=addr, host=world.hosts[p].name)
                for p in others
                if (addr := underlay_address(world.hosts[p])) is not None and addr != local
            ]
        tags = {**net.labels, labels.OWNER: owner, labels.NETWORK_ID: str(nid)}
        spec = OverlaySpec(
            vni=net.vni or 0,
            subnet=net.subnet,
            ip_range=blocks[0],
            gateway=gateway,
            local=vtep,
            peers=peers,
            labels=tags,
        )
        out.overlays.append(DesiredOverlay(nid, net.name, spec, _exposed(world, nid, host_id)))
        out.generations[nid] = net.generation
    if out.encrypted:
        out.tunnel = _tunnel(world, host_id, owner, tunnels, encrypted_spans)
    if out.overlays:
        if wrote:
            world = await _load(sessions)
        out.dns = _records(world, host_id)
    return out


def _exposed(world: _World, network_id: int, host_id: int) -> tuple[str, ...]:
    """The host's own addresses on the overlay (`weave expose`): rows with no container."""
    return tuple(
        a.address
        for a in world.addresses
        if a.network_id == network_id and a.host_id == host_id and a.container_id is None
    )


def _tunnel(
    world: _World,
    host_id: int,
    owner: str,
    tunnels: TunnelConfig,
    encrypted_spans: list[frozenset[int]],
) -> TunnelSpec:
    """The host's WireGuard interface: a peer per host it shares an encrypted overlay with."""
    peers = [
        PeerHost(
            p, world.hosts[p].name, underlay_address(world.hosts[p]), world.hosts[p].wg_public_key
        )
        for p in tunnel_peers(host_id, encrypted_spans, world.peerings)
    ]
    psk = tunnels.open_sealed(world.psk_sealed) if world.psk_sealed else None
    return tunnel_spec(interface_name(owner, host_id), tunnels.network, host_id, peers, psk)


def _records(world: _World, host_id: int) -> DnsRecordSet:
    """The `*.weave.local` records of every container on an overlay in the host's mesh."""
    mesh = mesh_of(host_id, world.hosts, world.peerings)
    names = {n.id or 0: n.name for n in world.overlays}
    rows = world.addresses
    by_id: dict[int | None, Container] = {c.id: c for c in world.containers}
    endpoints = []
    for row in rows:
        c = by_id.get(row.container_id)
        if c is None or c.host_id not in mesh or row.network_id not in names:
            continue
        attachment = next((a for a in c.spec.networks if a.network == names[row.network_id]), None)
        endpoints.append(
            OverlayEndpoint(
                container=c.name,
                address=row.address,
                running=c.observed.state in RUNNING_STATES,  # a health check folds into it
                hostname=c.spec.hostname,
                service=c.spec.labels.get(labels.SERVICE),
                aliases=tuple(attachment.aliases) if attachment else (),
            )
        )
    return records(endpoints, DEFAULT_DOMAIN)


def on_overlays(ctr: DesiredContainer, overlays: HostOverlays) -> DesiredContainer:
    """The container with its overlay addresses fixed, and the host's DNS responder as its
    resolver (its gateway on the first overlay) with `weave.local` searched, unless it set its own.
    """
    mine = overlays.addresses.get(ctr.id)
    if not mine:
        return ctr
    spec = ctr.spec
    nets = [
        a.model_copy(update={"ipv4_address": mine[a.name]}) if a.name in mine else a
        for a in spec.networks
    ]
    first = next(a.name for a in spec.networks if a.name in mine)
    spec = spec.model_copy(
        update={
            "networks": nets,
            "dns": spec.dns or [overlays.gateways[first]],
            "dns_search": spec.dns_search or [DEFAULT_DOMAIN],
        }
    )
    return replace(ctr, spec=spec)


async def mesh_records(sessions: SessionMaker, host_id: int) -> DnsRecordSet | None:
    """The host's mesh's record set as stored now (None: no overlay anywhere); reads only."""
    world = await _load(sessions)
    return _records(world, host_id) if world.overlays else None
