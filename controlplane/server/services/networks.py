"""Networks: validation, overlap checks, desired-state writes (bridges; overlays in `overlays`)."""

import ipaddress

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from controlplane.server.models import Container, Network, NetworkCreate, NetworkUpdate
from controlplane.server.models.common import ResourceStatus, utcnow
from controlplane.server.services.crud import get_row, list_rows, on_host
from controlplane.server.services.enginenets import refuse_engine_overlap
from controlplane.server.services.errors import AlreadyExists, Conflict, Invalid
from controlplane.server.services.hostlock import lock_host
from controlplane.server.services.overlays import OVERLAY, create_overlay, delete_overlay
from controlplane.server.services.runtime import Runtime, converge, converge_host

# Docker's predefined networks: a weft network cannot take their names.
RESERVED_NAMES = frozenset({"bridge", "host", "none", "default"})


def overlapping(subnet: str, others: list[Network]) -> Network | None:
    """The first network whose subnet overlaps `subnet`, if any."""
    net = ipaddress.ip_network(subnet)
    for other in others:
        if net.overlaps(ipaddress.ip_network(other.subnet)):
            return other
    return None


def default_gateway(subnet: str) -> str:
    """The subnet's first host address (Docker's choice too)."""
    return str(next(ipaddress.ip_network(subnet).hosts()))


async def list_networks(session: AsyncSession, host_id: int | None = None) -> list[Network]:
    """Networks, optionally of one host."""
    return await list_rows(session, Network, on_host(Network, host_id))


async def get_network(session: AsyncSession, network_id: int) -> Network:
    """The network, or NotFound."""
    return await get_row(session, Network, network_id)


async def overlay_networks(session: AsyncSession) -> list[Network]:
    """Every overlay network (their subnets and names are taken on every host)."""
    return list(await session.exec(select(Network).where(Network.driver == OVERLAY)))


async def create_network(
    session: AsyncSession, rt: Runtime, data: NetworkCreate, wait: bool
) -> Network:
    """Record a new network (409 on a taken name or an overlapping subnet); converge it."""
    if data.name in RESERVED_NAMES:
        raise Invalid(f"{data.name} is a Docker network name", loc=["body", "name"])
    if data.driver == OVERLAY:
        return await create_overlay(session, rt, data, wait)
    if data.hosts:
        raise Invalid("only an overlay spans several hosts", loc=["body", "hosts"])
    if data.encrypted:
        raise Invalid(
            "only an overlay is encrypted (a bridge never leaves its host)",
            loc=["body", "encrypted"],
        )
    if data.host_id is None:
        raise Invalid("a bridge network needs its host", loc=["body", "host_id"])
    if data.subnet is None:
        raise Invalid("a bridge network needs a subnet", loc=["body", "subnet"])
    # Asked before the host's lock is taken: no agent call while holding it.
    await refuse_engine_overlap(session, rt, data.host_id, data.subnet)
    await lock_host(session, data.host_id, ["body", "host_id"])
    same_host = await list_networks(session, data.host_id)
    everywhere = await overlay_networks(session)
    if any(n.name == data.name for n in same_host + everywhere):
        raise AlreadyExists(
            f"network {data.name} exists on host {data.host_id}", loc=["body", "name"]
        )
    clash = overlapping(data.subnet, same_host + everywhere)
    if clash is not None:
        raise Conflict(
            f"subnet {data.subnet} overlaps network {clash.name} ({clash.subnet})",
            loc=["body", "subnet"],
        )
    net = Network.model_validate(data.model_dump())
    net.gateway = data.gateway or default_gateway(data.subnet)
    session.add(net)
    await session.commit()
    await session.refresh(net)
    return await converge(rt, net, wait, get_network)


async def update_network(
    session: AsyncSession, rt: Runtime, network_id: int, data: NetworkUpdate
) -> Network:
    """Change a network's labels."""
    net = await get_network(session, network_id)
    if data.labels is not None:
        net.labels = data.labels
        net.generation += 1
        net.status, net.updated_at = ResourceStatus.pending, utcnow()
    await session.commit()
    await session.refresh(net)
    return await converge(rt, net, False, get_network)


async def delete_network(session: AsyncSession, rt: Runtime, network_id: int, wait: bool) -> None:
    """Forget a network (the reconciler removes it); refused while containers use it."""
    net = await get_network(session, network_id)
    if net.driver == OVERLAY:
        return await delete_overlay(session, rt, net, wait)
    rows = await session.exec(select(Container).where(Container.host_id == net.host_id))
    users = [c.name for c in rows if any(a.network == net.name for a in c.spec.networks)]
    if users:
        raise Conflict(f"network {net.name} is used by containers: {', '.join(sorted(users))}")
    await session.delete(net)
    await session.commit()
    await converge_host(rt, net.host_id, wait)
