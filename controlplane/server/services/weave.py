"""The other weave verbs: attach/detach a container, expose/hide a host, ps, reset a host.

Attach and expose are desired state like every other write: attaching adds the
overlay to the container's `networks` (the reconciler then connects it in place,
at the address the central IPAM gives it, since overlays are left out of the
container's spec hash), exposing reserves the host's own address in the IPAM (a
row with no container, so no container is ever handed it) and the host's
reconciler puts it on the overlay's bridge. `ps` asks every agent now; `reset`
empties the host through its agent and makes the control plane forget what it
wanted there (see `reset_host`).
"""

import asyncio
import ipaddress

from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from controlplane.contract import labels
from controlplane.server.agentclient import AgentClientError
from controlplane.server.models import (
    Container,
    Host,
    Link,
    Network,
    NetworkAttachment,
    OverlayAddress,
    OverlayBlock,
    Peering,
)
from controlplane.server.models.common import ResourceStatus, utcnow
from controlplane.server.models.weave import (
    AttachRequest,
    ExposedPublic,
    HostEndpoints,
    HostForgotten,
    HostReset,
)
from controlplane.server.reconcile import overlaystore
from controlplane.server.services.crud import get_row
from controlplane.server.services.errors import Conflict, HostUnavailable, Invalid
from controlplane.server.services.hostlock import lock_host
from controlplane.server.services.overlays import OVERLAY, hand_over, overlays_spanning
from controlplane.server.services.runtime import Runtime, converge, converge_host, kick_all

NET_LOC = ["path", "network_id"]


async def _overlay_row(session: AsyncSession, network_id: int) -> Network:
    """The overlay `network_id` (404 unknown, 422 a bridge network)."""
    net = await get_row(session, Network, network_id)
    if net.driver != OVERLAY:
        raise Invalid(f"network {net.name} is a bridge network, not an overlay", loc=NET_LOC)
    return net


async def _overlay(session: AsyncSession, network_id: int, host: Host) -> Network:
    """The overlay `network_id`, spanning `host` (404, 422 for a bridge, 409 off its span)."""
    net = await _overlay_row(session, network_id)
    if all(n.id != net.id for n in await overlays_spanning(session, host.id or 0)):
        raise Conflict(
            f"overlay {net.name} does not span host {host.name}: peer it with the overlay's"
            " mesh first (weft connect)",
            loc=NET_LOC,
        )
    return net


async def _reread(session: AsyncSession, container_id: int) -> Container:
    return await get_row(session, Container, container_id)


async def _set_networks(
    session: AsyncSession, rt: Runtime, row: Container, nets: list[NetworkAttachment], wait: bool
) -> Container:
    """Store the container's new overlays as a new generation; its reconciler moves it."""
    row.spec = row.spec.model_copy(update={"networks": nets})
    row.generation += 1
    row.status, row.status_reason, row.updated_at = ResourceStatus.pending, None, utcnow()
    await session.commit()
    await session.refresh(row)
    return await converge(rt, row, wait, _reread)


async def attach(
    session: AsyncSession,
    rt: Runtime,
    container_id: int,
    network_id: int,
    data: AttachRequest,
    wait: bool,
) -> Container:
    """Put the container on the overlay with these aliases, without restarting it."""
    row = await get_row(session, Container, container_id)
    host = await get_row(session, Host, row.host_id)
    net = await _overlay(session, network_id, host)
    if row.spec.network_mode != "bridge":
        raise Conflict(
            f"container {row.name} runs in network mode {row.spec.network_mode}"
            " and cannot join a network",
            loc=["path", "container_id"],
        )
    await lock_host(session, row.host_id)
    await session.refresh(row)  # what the lock's previous holder wrote (another overlay)
    wanted = NetworkAttachment(network=net.name, aliases=data.aliases)
    nets = list(row.spec.networks)
    current = next((a for a in nets if a.network == net.name), None)
    if current == wanted:
        return await converge(rt, row, wait, _reread)
    nets = [wanted if a.network == net.name else a for a in nets] if current else [*nets, wanted]
    return await _set_networks(session, rt, row, nets, wait)


async def detach(
    session: AsyncSession, rt: Runtime, container_id: int, network_id: int, wait: bool
) -> Container:
    """Take the container off the overlay, without restarting it (not on it: unchanged)."""
    row = await get_row(session, Container, container_id)
    net = await _overlay_row(session, network_id)
    await lock_host(session, row.host_id)
    await session.refresh(row)
    nets = [a for a in row.spec.networks if a.network != net.name]
    if len(nets) == len(row.spec.networks):
        return await converge(rt, row, wait, _reread)
    return await _set_networks(session, rt, row, nets, wait)


def _exposed(host: Host, net: Network, address: str) -> ExposedPublic:
    return ExposedPublic(
        host_id=host.id or 0,
        host=host.name,
        network_id=net.id or 0,
        network=net.name,
        address=address,
        prefix=ipaddress.IPv4Network(net.subnet).prefixlen,
    )


async def expose(
    session: AsyncSession, rt: Runtime, host_id: int, network_id: int, wait: bool
) -> ExposedPublic:
    """The host's own address on the overlay, reserved in the IPAM on first ask."""
    host = await get_row(session, Host, host_id)
    net = await _overlay(session, network_id, host)
    # The IPAM writes commit in sessions of their own: the request's connection goes back
    # first, so concurrent requests do not hold two connections each.
    await session.commit()
    try:
        address = await overlaystore.address_of(rt.sessions, net, host_id, None)
    except overlaystore.IpamExhausted as exc:
        raise Conflict(str(exc), loc=NET_LOC) from None
    await converge_host(rt, host_id, wait)
    return _exposed(host, net, address)


async def list_exposed(session: AsyncSession) -> list[ExposedPublic]:
    """Every host's exposed addresses, by host then network."""
    rows = await session.exec(
        select(OverlayAddress).where(col(OverlayAddress.container_id).is_(None))
    )
    out = []
    for row in rows:
        host = await session.get(Host, row.host_id)
        net = await session.get(Network, row.network_id)
        if host is not None and net is not None:
            out.append(_exposed(host, net, row.address))
    return sorted(out, key=lambda e: (e.host_id, e.network_id))


async def hide(
    session: AsyncSession, rt: Runtime, host_id: int, network_id: int, wait: bool
) -> None:
    """Take the host's address on the overlay back to the pool (none held: fine)."""
    await get_row(session, Host, host_id)
    await _overlay_row(session, network_id)
    await session.commit()  # as in expose: one connection per request at a time
    await overlaystore.hide(rt.sessions, network_id, host_id)
    await converge_host(rt, host_id, wait)


async def _ps_of(rt: Runtime, host: Host) -> HostEndpoints:
    base = HostEndpoints(host_id=host.id or 0, host=host.name, reachable=True)
    try:
        async with rt.agents(host.agent_url, host.agent_token) as agent:
            base.endpoints = await agent.ps()
    except AgentClientError as exc:
        base.reachable, base.reason = False, str(exc)
    return base


async def ps(session: AsyncSession, rt: Runtime, host_id: int | None) -> list[HostEndpoints]:
    """Every endpoint on overlays (containers and exposed addresses), by host, asked now."""
    if host_id is not None:
        hosts = [await get_row(session, Host, host_id, ["query", "host_id"])]
    else:
        hosts = list(await session.exec(select(Host).order_by(col(Host.id))))
    return list(await asyncio.gather(*(_ps_of(rt, h) for h in hosts)))


async def reset_host(session: AsyncSession, rt: Runtime, host_id: int) -> HostReset:
    """`weave reset`: the host's agent removes everything weft put there, and the host leaves.

    The host stays registered, but as a fresh one: its containers (and their links),
    its bridge networks, its exposed addresses and its peerings are forgotten, and the
    overlays it named get another host of their mesh (or go, spanning no other host),
    so no reconciler puts anything back and every other host drops it from its
    peers and DNS. Refused (409) while it runs a stack's containers (remove or move
    the stack first); an agent that does not answer is a 503 and nothing changes.
    """
    host = await get_row(session, Host, host_id)
    rows = list(await session.exec(select(Container).where(Container.host_id == host_id)))
    stacks = sorted({s for c in rows if (s := c.spec.labels.get(labels.STACK))})
    if stacks:
        raise Conflict(
            f"host {host.name} runs containers of stacks {', '.join(stacks)}: remove them first",
            loc=["path", "host_id"],
        )
    # Stopped first, so a pass in flight cannot recreate what the agent removes.
    await rt.reconcilers.stop(host_id)
    try:
        result = await _reset(session, rt, host, rows)
    finally:
        rt.reconcilers.ensure(host_id)
    kick_all(rt)
    await rt.events.emit(
        "host", "reset", "ok", resource_id=host_id, resource_name=host.name, host_id=host_id
    )
    return result


async def _reset(
    session: AsyncSession, rt: Runtime, host: Host, rows: list[Container]
) -> HostReset:
    host_id = host.id or 0
    try:
        async with rt.agents(host.agent_url, host.agent_token) as agent:
            removed = await agent.reset()
    except AgentClientError as exc:
        raise HostUnavailable(f"cannot reset {host.name}: {exc}") from None
    names = {h.id: h.name for h in await session.exec(select(Host))}
    peerings = list(
        await session.exec(
            select(Peering).where(
                (col(Peering.host_a_id) == host_id) | (col(Peering.host_b_id) == host_id)
            )
        )
    )
    exposed = list(
        await session.exec(
            select(OverlayAddress).where(
                OverlayAddress.host_id == host_id, col(OverlayAddress.container_id).is_(None)
            )
        )
    )
    overlays = {n.id: n.name for n in await session.exec(select(Network))}
    anchored = list(
        await session.exec(
            select(Network).where(Network.driver == OVERLAY, Network.host_id == host_id)
        )
    )
    bridges = list(
        await session.exec(
            select(Network).where(Network.driver != OVERLAY, Network.host_id == host_id)
        )
    )
    forgotten = HostForgotten(
        containers=sorted(c.name for c in rows),
        networks=sorted(n.name for n in bridges),
        peerings=sorted(f"{names.get(p.host_a_id)}-{names.get(p.host_b_id)}" for p in peerings),
        exposed=sorted(f"{overlays.get(a.network_id)}:{a.address}" for a in exposed),
    )
    ids = [c.id for c in rows]
    await session.exec(delete(Link).where(col(Link.from_id).in_(ids) | col(Link.to_id).in_(ids)))
    await session.exec(delete(Container).where(col(Container.host_id) == host_id))
    # Its overlays are named by another host of the mesh while it is still in it.
    await hand_over(session, host_id)
    for net in anchored:
        kept = await session.get(Network, net.id)
        target = forgotten.overlays_handed_over if kept else forgotten.overlays_removed
        target.append(net.name)
    await session.exec(delete(Network).where(col(Network.id).in_([n.id for n in bridges])))
    await session.exec(delete(OverlayAddress).where(col(OverlayAddress.host_id) == host_id))
    await session.exec(delete(OverlayBlock).where(col(OverlayBlock.host_id) == host_id))
    await session.exec(delete(Peering).where(col(Peering.id).in_([p.id for p in peerings])))
    await session.commit()
    return HostReset(host_id=host_id, host=host.name, removed=removed, forgotten=forgotten)
