"""Containers: spec checks against the host's other containers, desired-state writes."""

import ipaddress
from collections.abc import Sequence

from pydantic import ValidationError
from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from controlplane.server.models import (
    Container,
    ContainerCreate,
    ContainerSpec,
    ContainerUpdate,
    Host,
    Link,
    Network,
)
from controlplane.server.models.common import ResourceStatus, utcnow
from controlplane.server.services.crud import get_row, list_rows, on_host
from controlplane.server.services.errors import AlreadyExists, Conflict, Invalid
from controlplane.server.services.hostlock import lock_host
from controlplane.server.services.runtime import Runtime, converge, converge_host

WILDCARDS = frozenset({"0.0.0.0", "::"})


def port_clash(spec: ContainerSpec, others: Sequence[Container]) -> tuple[int, str] | None:
    """(index of the clashing published port, the other container) or None."""
    for i, mine in enumerate(spec.ports):
        if mine.host_port is None:
            continue
        for other in others:
            for theirs in other.spec.ports:
                if (theirs.host_port, theirs.protocol) != (mine.host_port, mine.protocol):
                    continue
                if mine.host_ip == theirs.host_ip or {mine.host_ip, theirs.host_ip} & WILDCARDS:
                    return i, other.name
    return None


def taken_addresses(network: str, others: Sequence[Container]) -> dict[str, str]:
    """Address -> container name, for fixed and observed addresses on a network."""
    out: dict[str, str] = {}
    for other in others:
        address = other.observed.addresses.get(network)
        if address:
            out[address] = other.name
        for att in other.spec.networks:
            if att.network == network and att.ipv4_address:
                out[att.ipv4_address] = other.name
    return out


async def check_spec(
    session: AsyncSession, host_id: int, spec: ContainerSpec, exclude: int | None
) -> None:
    """Networks exist on the host; fixed IPs fit and are free; published ports are free."""
    rows = await session.exec(select(Container).where(Container.host_id == host_id))
    others = [c for c in rows if c.id != exclude]
    nets = {
        n.name: n for n in await session.exec(select(Network).where(Network.host_id == host_id))
    }
    for i, att in enumerate(spec.networks):
        loc: list[str | int] = ["body", "networks", i]
        net = nets.get(att.network)
        if net is None:
            raise Invalid(f"no network {att.network} on host {host_id}", loc=[*loc, "network"])
        if att.ipv4_address is None:
            continue
        subnet = ipaddress.ip_network(net.subnet)
        ip = ipaddress.ip_address(att.ipv4_address)
        if ip not in subnet or ip in (subnet.network_address, subnet.broadcast_address):
            raise Invalid(
                f"{ip} is not a usable address of {net.name} ({net.subnet})",
                loc=[*loc, "ipv4_address"],
            )
        if str(ip) == net.gateway:
            raise Conflict(f"{ip} is the gateway of {net.name}", loc=[*loc, "ipv4_address"])
        holder = taken_addresses(net.name, others).get(str(ip))
        if holder is not None:
            raise Conflict(
                f"{ip} on {net.name} is taken by container {holder}", loc=[*loc, "ipv4_address"]
            )
    clash = port_clash(spec, others)
    if clash is not None:
        i, name = clash
        p = spec.ports[i]
        raise Conflict(
            f"{p.host_ip}:{p.host_port}/{p.protocol} is published by container {name}",
            loc=["body", "ports", i, "host_port"],
        )
    target = spec.shared_stack()
    if target is not None and not any(o.name == target for o in others):
        raise Invalid(f"no container {target} on host {host_id}", loc=["body", "network_mode"])


async def list_containers(session: AsyncSession, host_id: int | None = None) -> list[Container]:
    """Containers, optionally of one host."""
    return await list_rows(session, Container, on_host(Container, host_id))


async def get_container(session: AsyncSession, container_id: int) -> Container:
    """The container, or NotFound."""
    return await get_row(session, Container, container_id)


async def create_container(
    session: AsyncSession, rt: Runtime, data: ContainerCreate, wait: bool
) -> Container:
    """Record a new container after checking it against the host's others; converge it."""
    await lock_host(session, data.host_id, ["body", "host_id"])
    taken = await session.exec(
        select(Container).where(Container.host_id == data.host_id, Container.name == data.name)
    )
    if taken.first() is not None:
        raise AlreadyExists(
            f"container {data.name} exists on host {data.host_id}", loc=["body", "name"]
        )
    spec = data.spec()
    await check_spec(session, data.host_id, spec, None)
    aliases = [k.alias for k in data.links]
    for i, k in enumerate(data.links):
        await get_row(session, Container, k.to, ["body", "links", i, "to"])
        if aliases.index(k.alias) != i:
            raise Conflict(f"alias {k.alias} is given twice", loc=["body", "links", i, "alias"])
    row = Container(name=data.name, host_id=data.host_id, spec=spec)
    session.add(row)
    await session.flush()
    # Same transaction: the first ensure already carries the link set.
    for k in data.links:
        session.add(Link(from_id=row.id or 0, to_id=k.to, alias=k.alias))
    await session.commit()
    await session.refresh(row)
    return await converge(rt, row, wait, get_container)


async def update_container(
    session: AsyncSession, rt: Runtime, container_id: int, data: ContainerUpdate, wait: bool
) -> Container:
    """Replace the given spec fields; the reconciler recreates the container if they differ."""
    row = await get_container(session, container_id)
    try:
        spec = row.spec.with_changes(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise Invalid(first["msg"], loc=["body", *first["loc"]]) from None
    await lock_host(session, row.host_id)
    await check_spec(session, row.host_id, spec, row.id)
    row.spec = spec
    return await _bump_and_converge(session, rt, row, wait)


async def restart_container(
    session: AsyncSession, rt: Runtime, container_id: int, wait: bool
) -> Container:
    """Ask for a restart in place (docker restart); links to it follow a new address."""
    row = await get_container(session, container_id)
    row.restart_generation += 1
    return await _bump_and_converge(session, rt, row, wait)


async def delete_container(
    session: AsyncSession, rt: Runtime, container_id: int, wait: bool
) -> None:
    """Forget a container and its links (the reconciler removes it from the host)."""
    row = await get_container(session, container_id)
    rows = await session.exec(select(Container).where(Container.host_id == row.host_id))
    users = [c.name for c in rows if c.spec.shared_stack() == row.name]
    if users:
        raise Conflict(f"containers share {row.name}'s network: {', '.join(sorted(users))}")
    await session.exec(
        delete(Link).where((col(Link.from_id) == row.id) | (col(Link.to_id) == row.id))
    )
    await session.delete(row)
    await session.commit()
    await converge_host(rt, row.host_id, wait)


async def _bump_and_converge(
    session: AsyncSession, rt: Runtime, row: Container, wait: bool
) -> Container:
    """Store the changed row as a new generation, pending; converge it."""
    row.generation += 1
    row.status, row.status_reason, row.updated_at = ResourceStatus.pending, None, utcnow()
    await session.commit()
    await session.refresh(row)
    return await converge(rt, row, wait, get_container)


async def container_logs(session: AsyncSession, rt: Runtime, container_id: int, tail: int) -> str:
    """The container's recent logs, asked of its host's agent."""
    row = await get_container(session, container_id)
    host = await get_row(session, Host, row.host_id)
    async with rt.agents(host.agent_url, host.agent_token) as agent:
        return await agent.container_logs(row.name, tail)
