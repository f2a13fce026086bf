"""Bridge networks: validation, overlap checks, desired-state writes."""

import ipaddress

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from controlplane.server.models import Container, Network, NetworkCreate, NetworkUpdate
from controlplane.server.models.common import ResourceStatus, utcnow
from controlplane.server.services.errors import AlreadyExists, Conflict, Invalid, NotFound
from controlplane.server.services.hosts import host_for_write

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
    query = select(Network).order_by(col(Network.id))
    if host_id is not None:
        query = query.where(Network.host_id == host_id)
    return list(await session.exec(query))


async def get_network(session: AsyncSession, network_id: int) -> Network:
    """The network, or NotFound."""
    net = await session.get(Network, network_id)
    if net is None:
        raise NotFound(f"no network {network_id}")
    return net


async def create_network(session: AsyncSession, data: NetworkCreate) -> Network:
    """Record a new bridge network (409 on a taken name or an overlapping subnet)."""
    await host_for_write(session, data.host_id, ["body", "host_id"])
    if data.name in RESERVED_NAMES:
        raise Invalid(f"{data.name} is a Docker network name", loc=["body", "name"])
    same_host = await list_networks(session, data.host_id)
    if any(n.name == data.name for n in same_host):
        raise AlreadyExists(
            f"network {data.name} exists on host {data.host_id}", loc=["body", "name"]
        )
    clash = overlapping(data.subnet, same_host)
    if clash is not None:
        raise Conflict(
            f"subnet {data.subnet} overlaps network {clash.name} ({clash.subnet})",
            loc=["body", "subnet"],
        )
    net = Network.model_validate(data)
    net.gateway = data.gateway or default_gateway(data.subnet)
    session.add(net)
    await session.commit()
    await session.refresh(net)
    return net


async def update_network(session: AsyncSession, network_id: int, data: NetworkUpdate) -> Network:
    """Change a network's labels."""
    net = await get_network(session, network_id)
    if data.labels is not None:
        net.labels = data.labels
        net.generation += 1
        net.status, net.updated_at = ResourceStatus.pending, utcnow()
    await session.commit()
    await session.refresh(net)
    return net


async def delete_network(session: AsyncSession, network_id: int) -> Network:
    """Forget a network (the reconciler removes it); refused while containers use it."""
    net = await get_network(session, network_id)
    rows = await session.exec(select(Container).where(Container.host_id == net.host_id))
    users = [c.name for c in rows if any(a.network == net.name for a in c.spec.networks)]
    if users:
        raise Conflict(f"network {net.name} is used by containers: {', '.join(sorted(users))}")
    await session.delete(net)
    await session.commit()
    return net
