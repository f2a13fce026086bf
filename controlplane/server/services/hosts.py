"""Hosts: registration (verified against the agent), updates, removal."""

from collections.abc import Callable

from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from controlplane.contract import labels
from controlplane.server.agentclient import (
    AgentAuthError,
    AgentClient,
    AgentError,
    AgentUnavailable,
)
from controlplane.server.models import Container, Host, HostCreate, HostUpdate, Link, Network
from controlplane.server.models.common import HostStatus, utcnow
from controlplane.server.services.errors import (
    AlreadyExists,
    Conflict,
    HostUnavailable,
    Invalid,
    NotFound,
)

AgentFactory = Callable[[str, str], AgentClient]


async def list_hosts(session: AsyncSession) -> list[Host]:
    """Every host, by id."""
    return list(await session.exec(select(Host).order_by(col(Host.id))))


async def get_host(session: AsyncSession, host_id: int) -> Host:
    """The host, or NotFound."""
    host = await session.get(Host, host_id)
    if host is None:
        raise NotFound(f"no host {host_id}")
    return host


async def host_for_write(session: AsyncSession, host_id: int, loc: list[str | int]) -> Host:
    """The host a new resource names in its body (422 naming the field if absent)."""
    host = await session.get(Host, host_id)
    if host is None:
        raise Invalid(f"no host {host_id}", loc=loc)
    return host


async def register_host(session: AsyncSession, data: HostCreate, agents: AgentFactory) -> Host:
    """Call the agent with the given URL and token; store the host only if it answers."""
    url = str(data.agent_url).rstrip("/")
    if (await session.exec(select(Host).where(Host.name == data.name))).first():
        raise AlreadyExists(f"a host named {data.name} exists", loc=["body", "name"])
    if (await session.exec(select(Host).where(Host.agent_url == url))).first():
        raise AlreadyExists(f"a host with agent {url} exists", loc=["body", "agent_url"])
    async with agents(url, data.agent_token) as agent:
        try:
            info = await agent.info()
        except AgentAuthError as exc:
            raise Invalid(
                f"the agent at {url} rejected the token ({exc.status})", loc=["body", "agent_token"]
            ) from None
        except AgentUnavailable as exc:
            raise Invalid(f"no agent answers at {url}: {exc}", loc=["body", "agent_url"]) from None
        except AgentError as exc:
            raise Invalid(f"the agent at {url} failed: {exc}", loc=["body", "agent_url"]) from None
    host = Host(
        name=data.name,
        agent_url=url,
        agent_token=data.agent_token,
        labels=data.labels,
        status=HostStatus.ready,
        last_seen=utcnow(),
        hostname=info.hostname,
        docker_version=info.docker_version,
        addresses=info.addresses,
    )
    session.add(host)
    await session.commit()
    await session.refresh(host)
    return host


async def update_host(session: AsyncSession, host_id: int, data: HostUpdate) -> Host:
    """Change a host's labels or agent token."""
    host = await get_host(session, host_id)
    if data.labels is not None:
        host.labels = data.labels
    if data.agent_token is not None:
        host.agent_token = data.agent_token
    await session.commit()
    await session.refresh(host)
    return host


async def delete_host(
    session: AsyncSession,
    host_id: int,
    force: bool,
    agents: AgentFactory,
    owner: str,
    forget: bool = False,
) -> Host:
    """Forget a host after removing what this control plane made there.

    Refused (409) while weft containers are recorded for it, unless forced. The
    host's weft containers and networks are removed through its agent first; if the
    agent does not answer while something is recorded there, nothing is forgotten
    (503), so no container is orphaned -- unless `forget` says the host is gone for
    good (like `docker node rm --force` for a dead Swarm node). What weft left on such
    a host carries this control plane's owner label, so if the host is registered
    again, its reconciler removes those strays.
    """
    if forget and not force:
        raise Invalid("forget=true also needs force=true", loc=["query", "forget"])
    host = await get_host(session, host_id)
    rows = list(await session.exec(select(Container).where(Container.host_id == host_id)))
    if rows and not force:
        names = ", ".join(sorted(c.name for c in rows))
        raise Conflict(
            f"host {host.name} still has weft containers: {names}; "
            "delete them first or use ?force=true"
        )
    nets = list(await session.exec(select(Network).where(Network.host_id == host_id)))
    try:
        async with agents(host.agent_url, host.agent_token) as agent:
            for c in await agent.list_containers({labels.OWNER: owner}):
                await agent.delete_container(c.name)
            for n in await agent.list_networks({labels.OWNER: owner}):
                await agent.delete_network(n.name)
    except AgentUnavailable as exc:
        if (rows or nets) and not forget:
            raise HostUnavailable(
                f"cannot remove weft's containers and networks from {host.name}: {exc}; "
                "if the host is gone for good, use ?force=true&forget=true"
            ) from None
    ids = [c.id for c in rows]
    await session.exec(delete(Link).where(col(Link.from_id).in_(ids) | col(Link.to_id).in_(ids)))
    await session.exec(delete(Container).where(col(Container.host_id) == host_id))
    await session.exec(delete(Network).where(col(Network.host_id) == host_id))
    await session.delete(host)
    await session.commit()
    return host
