"""A new bridge network's subnet against the networks its host's engine already has.

The database knows only weft's networks; docker0 (172.17.0.0/16 by default) and
networks made outside weft live on the engine alone. A subnet that overlaps one
of them fails in Docker ("Pool overlaps with other one on this address space")
at every attempt, so it is refused up front. When the agent cannot be asked, the
write goes ahead: the reconciler then shows the failure once, with its reason.
"""

import ipaddress

from sqlmodel.ext.asyncio.session import AsyncSession

from controlplane.contract.schemas import EngineNetwork
from controlplane.server.agentclient import AgentClientError
from controlplane.server.models import Host
from controlplane.server.services.errors import Conflict
from controlplane.server.services.runtime import Runtime


def engine_clash(subnet: str, seen: list[EngineNetwork], owner: str) -> EngineNetwork | None:
    """The first engine network not made by this control plane whose subnet overlaps."""
    net = ipaddress.ip_network(subnet)
    for other in seen:
        if other.owner == owner:  # weft's own: the database's checks cover it
            continue
        for theirs in other.subnets:
            try:
                if net.overlaps(ipaddress.ip_network(theirs, strict=False)):
                    return other
            except ValueError:  # an engine subnet we cannot read is no clash
                continue
    return None


async def refuse_engine_overlap(
    session: AsyncSession, rt: Runtime, host_id: int, subnet: str
) -> None:
    """409 naming `subnet` and the engine's network when they overlap (asked of the agent)."""
    host = await session.get(Host, host_id)
    # The connection goes back to the pool while the agent answers (20 writers at
    # once would otherwise hold them all); the loaded host stays usable.
    await session.commit()
    if host is None:
        return  # the write's own checks say so
    seen = await _engine_networks(rt, host)
    clash = engine_clash(subnet, seen, rt.owner)
    if clash is not None:
        raise Conflict(
            f"subnet {subnet} overlaps the engine's network {clash.name}"
            f" ({', '.join(clash.subnets)}) on host {host.name}",
            loc=["body", "subnet"],
        )


async def engine_subnets(rt: Runtime, host: Host) -> list[str]:
    """Every subnet the host's engine has now, whoever made it ([] when the agent is away):
    what a subnet picked for the host must not overlap."""
    out = []
    for net in await _engine_networks(rt, host):
        for subnet in net.subnets:
            try:
                out.append(str(ipaddress.ip_network(subnet, strict=False)))
            except ValueError:  # one we cannot read cannot be avoided either
                continue
    return out


async def _engine_networks(rt: Runtime, host: Host) -> list[EngineNetwork]:
    """The networks the host's engine has now; none when its agent cannot be asked."""
    try:
        async with rt.agents(host.agent_url, host.agent_token) as agent:
            return await agent.engine_networks()
    except AgentClientError:
        return []
