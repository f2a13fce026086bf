"""Peerings: `weave connect` / `weave forget` as records, and `weave status peers`.

Hosts joined by peerings, directly or through others, form one mesh
(`reconcile.meshplan`). Whether a peer is reachable, and the MTU the overlay
gets, is measured by the agents (`POST /v1/probe` from each end), never assumed:
a peering is checked when it is made and on `GET /peerings?check=true`, and a
host's status probes every other host of its mesh from that host.
"""

import asyncio
from urllib.parse import urlsplit

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from controlplane.contract.probe import ProbeResult, ProbeTarget
from controlplane.server.agentclient import AgentClientError
from controlplane.server.models import (
    Host,
    HostPeers,
    Network,
    Peering,
    PeeringCheck,
    PeeringCreate,
    PeeringPublic,
    PeerStatus,
)
from controlplane.server.models.common import utcnow
from controlplane.server.reconcile.meshplan import mesh_of, overlay_mtu, overlay_span
from controlplane.server.reconcile.overlays import OVERLAY, underlay_address
from controlplane.server.reconcile.tunnelplan import (
    CARRIES_NOTHING,
    handshake_problem,
    interface_name,
    tunnel_address,
    tunnel_peers,
)
from controlplane.server.services.crud import get_row
from controlplane.server.services.errors import AlreadyExists, Invalid, NotFound
from controlplane.server.services.overlays import mesh_facts
from controlplane.server.services.runtime import Runtime, kick_all

DATAPATH = "vxlan"


def _agent_port(host: Host) -> int:
    parts = urlsplit(host.agent_url)
    return parts.port or (443 if parts.scheme == "https" else 80)


async def _probe(rt: Runtime, source: Host, targets: list[Host]) -> list[ProbeResult]:
    """`source`'s agent tries each target; an agent that fails makes every target unreachable."""
    wanted = [(t, underlay_address(t)) for t in targets]
    asks = [ProbeTarget(address=a, port=_agent_port(t)) for t, a in wanted if a]
    try:
        async with rt.agents(source.agent_url, source.agent_token) as agent:
            found = {r.address: r for r in await agent.probe(asks)} if asks else {}
    except AgentClientError as exc:
        reason = f"agent of {source.name} could not probe: {exc}"
        return [ProbeResult(address=a or "", reachable=False, error=reason) for _, a in wanted]
    out = []
    for t, a in wanted:
        missing = ProbeResult(address=a or "", reachable=False, error=f"{t.name} has no address")
        out.append(found.get(a or "", missing))
    return out


async def _tunnelled(session: AsyncSession, host: Host) -> list[int]:
    """The hosts `host` tunnels to (it shares an encrypted overlay with them)."""
    hosts, pairs = await mesh_facts(session)
    nets = await session.exec(
        select(Network).where(Network.driver == OVERLAY, col(Network.encrypted))
    )
    spans = [overlay_span(n.host_id, n.hosts, hosts, pairs) for n in nets]
    return tunnel_peers(host.id or 0, spans, pairs)


async def _tunnel_problems(
    session: AsyncSession, rt: Runtime, host: Host, others: list[Host]
) -> dict[int, str | None]:
    """For each other host `host` tunnels to: why that tunnel carries nothing (None: up).
    Measured by `host`'s agent: WireGuard's last handshake with the peer, and a probe of
    the peer's tunnel address through the tunnel. Hosts it does not tunnel to are left
    out (their link is plain VXLAN)."""
    wanted = [o for o in others if o.id in set(await _tunnelled(session, host))]
    if not wanted:
        return {}
    network = str(rt.settings.tunnel_network)
    targets = [
        ProbeTarget(address=tunnel_address(network, o.id or 0), port=_agent_port(o), path_only=True)
        for o in wanted
    ]
    try:
        async with rt.agents(host.agent_url, host.agent_token) as agent:
            seen = await agent.get_tunnel(interface_name(rt.owner, host.id or 0))
            probed = {r.address: r for r in await agent.probe(targets)} if seen else {}
    except AgentClientError as exc:
        return {o.id or 0: f"{host.name}'s tunnel cannot be measured: {exc}" for o in wanted}
    if seen is None:
        return {o.id or 0: f"{host.name} has no tunnel yet: {CARRIES_NOTHING}" for o in wanted}
    peers = {p.public_key: p for p in seen.peers}
    now = utcnow()
    out: dict[int, str | None] = {}
    for o, target in zip(wanted, targets, strict=True):
        peer = peers.get(o.wg_public_key or "")
        shook = peer.latest_handshake if peer else None
        age = (now - shook.replace(tzinfo=now.tzinfo)).total_seconds() if shook else None
        problem = handshake_problem(o.name, peers, o.wg_public_key, age)
        answer = probed.get(target.address)
        if problem is None and (answer is None or not answer.reachable):
            why = answer.error if answer else "not probed"
            problem = f"no answer from {o.name} through its tunnel ({why}): {CARRIES_NOTHING}"
        out[o.id or 0] = problem
    return out


async def _check(session: AsyncSession, rt: Runtime, a: Host, b: Host) -> PeeringCheck:
    """Both ends probe each other; reachable only when both got through (and, when the
    link is encrypted, both ends' tunnels had a recent handshake)."""
    (ab,), (ba,) = await asyncio.gather(_probe(rt, a, [b]), _probe(rt, b, [a]))
    reasons = [
        f"{x.name} -> {y.name}: {r.error}" for x, y, r in ((a, b, ab), (b, a, ba)) if r.error
    ]
    tunnel_a = await _tunnel_problems(session, rt, a, [b])
    tunnel_b = await _tunnel_problems(session, rt, b, [a])
    encrypted = bool(tunnel_a or tunnel_b)
    reasons += [why for why in (*tunnel_a.values(), *tunnel_b.values()) if why]
    mtus = {k: r.mtu for k, r in (("a", ab), ("b", ba)) if r.mtu}
    rtts = [r.rtt_ms for r in (ab, ba) if r.rtt_ms is not None]
    return PeeringCheck(
        reachable=ab.reachable
        and ba.reachable
        and not any((*tunnel_a.values(), *tunnel_b.values())),
        datapath=DATAPATH,
        encrypted=encrypted,
        mtu=overlay_mtu(mtus, encrypted) if mtus else None,
        rtt_ms=max(rtts) if rtts else None,
        reason="; ".join(reasons) or None,
        checked_at=utcnow(),
    )


async def _public(session: AsyncSession, p: Peering) -> PeeringPublic:
    a = await get_row(session, Host, p.host_a_id)
    b = await get_row(session, Host, p.host_b_id)
    return PeeringPublic(
        id=p.id or 0,
        a=p.host_a_id,
        b=p.host_b_id,
        a_name=a.name,
        b_name=b.name,
        last_check=p.last_check,
        created_at=p.created_at,
    )


async def _recheck(session: AsyncSession, rt: Runtime, p: Peering) -> None:
    a = await get_row(session, Host, p.host_a_id)
    b = await get_row(session, Host, p.host_b_id)
    p.last_check = await _check(session, rt, a, b)
    session.add(p)
    await session.commit()
    await session.refresh(p)


async def create_peering(session: AsyncSession, rt: Runtime, data: PeeringCreate) -> PeeringPublic:
    """Join two registered hosts (`weave connect`), then measure the link from both ends."""
    a = await get_row(session, Host, data.a, ["body", "a"])
    b = await get_row(session, Host, data.b, ["body", "b"])
    if a.id == b.id:
        raise Invalid("a host cannot be peered with itself", loc=["body", "b"])
    low, high = sorted((data.a, data.b))
    taken = await session.exec(
        select(Peering).where(Peering.host_a_id == low, Peering.host_b_id == high)
    )
    if taken.first() is not None:
        raise AlreadyExists(f"hosts {a.name} and {b.name} are already peered", loc=["body"])
    peering = Peering(host_a_id=low, host_b_id=high)
    session.add(peering)
    await session.commit()
    await session.refresh(peering)
    await rt.events.emit("peering", "connect", "ok", resource_id=peering.id, host_id=a.id)
    kick_all(rt)
    await _recheck(session, rt, peering)
    return await _public(session, peering)


async def list_peerings(session: AsyncSession, rt: Runtime, check: bool) -> list[PeeringPublic]:
    """Every peering with its last check (measured again now with `check`)."""
    rows = list(await session.exec(select(Peering).order_by(col(Peering.id))))
    if check:
        for p in rows:
            await _recheck(session, rt, p)
    return [await _public(session, p) for p in rows]


async def get_peering(session: AsyncSession, peering_id: int) -> PeeringPublic:
    """One peering, or NotFound."""
    p = await session.get(Peering, peering_id)
    if p is None:
        raise NotFound(f"no peering {peering_id}")
    return await _public(session, p)


async def delete_peering(session: AsyncSession, rt: Runtime, peering_id: int) -> None:
    """Forget a peering (`weave forget`); hosts still joined through others stay meshed."""
    p = await session.get(Peering, peering_id)
    if p is None:
        raise NotFound(f"no peering {peering_id}")
    await session.delete(p)
    await session.commit()
    await rt.events.emit("peering", "forget", "ok", resource_id=peering_id, host_id=p.host_a_id)
    kick_all(rt)


async def host_peers(session: AsyncSession, rt: Runtime, host_id: int) -> HostPeers:
    """`weave status peers` for one host: its mesh, each other member probed from it now."""
    host = await get_row(session, Host, host_id)
    hosts = {h.id or 0: h for h in await session.exec(select(Host))}
    peerings = list(await session.exec(select(Peering)))
    mesh = mesh_of(host_id, hosts, [(p.host_a_id, p.host_b_id) for p in peerings])
    others = [hosts[i] for i in sorted(mesh) if i != host_id]
    direct = {
        (p.host_b_id if p.host_a_id == host_id else p.host_a_id): p.id
        for p in peerings
        if host_id in (p.host_a_id, p.host_b_id)
    }
    results = await _probe(rt, host, others)
    tunnels = await _tunnel_problems(session, rt, host, others)
    now = utcnow()
    peers = [
        PeerStatus(
            host_id=o.id or 0,
            name=o.name,
            address=underlay_address(o),
            direct=(o.id or 0) in direct,
            peering_id=direct.get(o.id or 0),
            reachable=r.reachable and tunnels.get(o.id or 0) is None,
            datapath=DATAPATH,
            encrypted=(o.id or 0) in tunnels,
            mtu=overlay_mtu({"peer": r.mtu}, (o.id or 0) in tunnels) if r.mtu else None,
            rtt_ms=r.rtt_ms,
            reason="; ".join(w for w in (r.error, tunnels.get(o.id or 0)) if w) or None,
            checked_at=now,
        )
        for o, r in zip(others, results, strict=True)
    ]
    return HostPeers(
        host_id=host_id, name=host.name, mesh=sorted(hosts[i].name for i in mesh), peers=peers
    )
