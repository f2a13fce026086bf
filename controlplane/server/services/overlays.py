"""Overlay networks: one subnet across a mesh of hosts, named by one of them.

An overlay names its mesh by a host (its anchor, stored as `host_id`): the one
given as `host_id`, else the first of `hosts`, else the only mesh there is. It
spans that host's mesh as the peerings make it now (or only the listed hosts of
it), so connecting a host to the mesh adds it and forgetting one takes it off.
Several meshes and no host named is ambiguous: 422.

Its subnet (by default a free /16 of 10.32.0.0/12) overlaps no other network on
any host: the check and the insert run under every host's write lock, the one
each bridge write takes too (`hostlock`). Addresses are handed out by the
reconcilers from the central IPAM (`reconcile.overlaystore`).
"""

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from controlplane.contract.dns import DnsRecordSet
from controlplane.server.models import (
    Container,
    Host,
    HostRecords,
    IpamAddress,
    IpamBlock,
    Network,
    NetworkCreate,
    NetworkIpam,
    OverlayAddress,
    OverlayBlock,
    Peering,
)
from controlplane.server.reconcile import ipam
from controlplane.server.reconcile.meshplan import meshes, overlay_span
from controlplane.server.reconcile.overlays import OVERLAY, mesh_records
from controlplane.server.services.crud import get_row
from controlplane.server.services.errors import AlreadyExists, Conflict, Invalid
from controlplane.server.services.hostlock import lock_all_hosts
from controlplane.server.services.runtime import Runtime, converge, converge_host


def anchor_of(data: NetworkCreate, hosts: set[int], peerings: list[tuple[int, int]]) -> int:
    """The host that names the overlay's mesh (422 naming the field when none or unclear)."""
    for i, h in enumerate(data.hosts):
        if h not in hosts:
            raise Invalid(f"no host {h}", loc=["body", "hosts", i])
    if data.host_id is not None and data.host_id not in hosts:
        raise Invalid(f"no host {data.host_id}", loc=["body", "host_id"])
    groups = meshes(hosts, peerings)
    if data.hosts:
        anchor = data.host_id or data.hosts[0]
        mesh = next(g for g in groups if anchor in g)
        for i, h in enumerate(data.hosts):
            if h not in mesh:
                raise Invalid(
                    f"host {h} is not in the mesh of host {anchor}: peer it first",
                    loc=["body", "hosts", i],
                )
        return anchor
    if data.host_id is not None:
        return data.host_id
    if len(groups) == 1:
        return min(groups[0])
    why = "no host is registered" if not groups else f"there are {len(groups)} meshes"
    raise Invalid(f"{why}: name the overlay's mesh by host_id or hosts", loc=["body", "host_id"])


async def mesh_facts(session: AsyncSession) -> tuple[set[int], list[tuple[int, int]]]:
    """Every host id, and every peering as a pair of host ids (what meshes are made of)."""
    hosts = {h for h in await session.exec(select(Host.id)) if h is not None}
    pairs = [(p.host_a_id, p.host_b_id) for p in await session.exec(select(Peering))]
    return hosts, pairs


async def overlays_spanning(session: AsyncSession, host_id: int) -> list[Network]:
    """The overlays that span the host now (a container there may join them)."""
    hosts, pairs = await mesh_facts(session)
    rows = await session.exec(select(Network).where(Network.driver == OVERLAY))
    return [n for n in rows if host_id in overlay_span(n.host_id, n.hosts, hosts, pairs)]


async def create_overlay(
    session: AsyncSession, rt: Runtime, data: NetworkCreate, wait: bool
) -> Network:
    """Record an overlay network (its subnet free everywhere, a new VNI); converge its hosts."""
    if data.gateway is not None:
        raise Invalid(
            "an overlay's gateways are per host, chosen by its IPAM", loc=["body", "gateway"]
        )
    hosts, pairs = await mesh_facts(session)
    anchor = anchor_of(data, hosts, pairs)
    await lock_all_hosts(session)
    others = list(await session.exec(select(Network)))
    if any(n.name == data.name for n in others):
        raise AlreadyExists(f"a network {data.name} exists", loc=["body", "name"])
    taken = [n.subnet for n in others]
    try:
        subnet = data.subnet or ipam.pick_subnet(
            ipam.DEFAULT_POOL, ipam.DEFAULT_SUBNET_PREFIX, taken
        )
    except ipam.IpamError as exc:
        raise Conflict(str(exc), loc=["body", "subnet"]) from None
    clash = ipam.overlapping(subnet, taken)
    if clash:
        raise Conflict(f"subnet {subnet} overlaps {', '.join(clash)}", loc=["body", "subnet"])
    top = (await session.exec(select(func.max(col(Network.vni))))).one()
    net = Network(
        name=data.name,
        host_id=anchor,
        driver=OVERLAY,
        subnet=subnet,
        labels=data.labels,
        hosts=list(data.hosts),
        encrypted=data.encrypted,
        vni=(top or 0) + 1,
    )
    session.add(net)
    try:
        await session.commit()
    except IntegrityError:
        await session.rollback()
        raise Conflict(f"network {data.name} was created meanwhile", loc=["body", "name"]) from None
    await session.refresh(net)
    for host_id in overlay_span(anchor, net.hosts, hosts, pairs):
        rt.reconcilers.kick(host_id)
    return await converge(rt, net, wait, _reread)


async def _reread(session: AsyncSession, network_id: int) -> Network:
    return await get_row(session, Network, network_id)


async def delete_overlay(session: AsyncSession, rt: Runtime, net: Network, wait: bool) -> None:
    """Forget an overlay (every host's reconciler removes its part); 409 while in use."""
    rows = await session.exec(select(Container))
    users = [c.name for c in rows if any(a.network == net.name for a in c.spec.networks)]
    if users:
        raise Conflict(f"network {net.name} is used by containers: {', '.join(sorted(users))}")
    hosts, _ = await mesh_facts(session)
    await session.delete(net)
    await session.commit()
    for host_id in sorted(hosts):
        rt.reconcilers.kick(host_id)
    for host_id in sorted(hosts):
        await converge_host(rt, host_id, wait)


async def dns_status(session: AsyncSession, rt: Runtime) -> list[HostRecords]:
    """The records every host serves (`weft status dns`), as the control plane computes them."""
    out = []
    for host in await session.exec(select(Host).order_by(col(Host.id))):
        records = await mesh_records(rt.sessions, host.id or 0) or DnsRecordSet()
        out.append(
            HostRecords(
                host_id=host.id or 0,
                name=host.name,
                domain=records.domain,
                ttl=records.ttl,
                records=records.records,
            )
        )
    return out


async def ipam_status(session: AsyncSession) -> list[NetworkIpam]:
    """Every overlay's blocks per host and addresses (`weft status ipam`)."""
    hosts = {h.id: h.name for h in await session.exec(select(Host))}
    names = {c.id: c.name for c in await session.exec(select(Container))}
    blocks = list(await session.exec(select(OverlayBlock).order_by(col(OverlayBlock.id))))
    addresses = list(
        await session.exec(select(OverlayAddress).order_by(col(OverlayAddress.address)))
    )
    nets = await session.exec(
        select(Network).where(Network.driver == OVERLAY).order_by(col(Network.id))
    )
    return [
        NetworkIpam(
            network_id=n.id or 0,
            name=n.name,
            subnet=n.subnet,
            vni=n.vni,
            blocks=[
                IpamBlock(host_id=b.host_id, host=hosts.get(b.host_id, "?"), block=b.block)
                for b in blocks
                if b.network_id == n.id
            ],
            addresses=[
                IpamAddress(
                    container_id=a.container_id,
                    container=None if a.container_id is None else names.get(a.container_id, "?"),
                    host_id=a.host_id,
                    host=hosts.get(a.host_id, "?"),
                    address=a.address,
                )
                for a in addresses
                if a.network_id == n.id
            ],
        )
        for n in nets
    ]


async def hand_over(session: AsyncSession, host_id: int) -> None:
    """Before a host is removed: its overlays get another anchor of their mesh (or go, with
    no other host left); the caller commits. Its blocks and addresses go with its row."""
    hosts, pairs = await mesh_facts(session)
    anchored = await session.exec(
        select(Network).where(Network.driver == OVERLAY, Network.host_id == host_id)
    )
    for net in list(anchored):
        others = sorted(overlay_span(host_id, net.hosts, hosts, pairs) - {host_id})
        if others:
            net.host_id = others[0]
            net.hosts = [h for h in net.hosts if h != host_id]
            session.add(net)
        else:
            await session.delete(net)
    await session.flush()
