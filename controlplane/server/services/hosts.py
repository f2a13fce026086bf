"""Hosts: registration (verified against the agent), updates, removal."""

from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from controlplane.contract import labels
from controlplane.contract.overlay import VNI_LABEL
from controlplane.server.agentclient import AgentAuthError, AgentError, AgentUnavailable
from controlplane.server.agents import Agents
from controlplane.server.models import Container, Host, HostCreate, HostUpdate, Link, Network
from controlplane.server.models.common import HostStatus, utcnow
from controlplane.server.sealing import is_sealed
from controlplane.server.services.crud import get_row, list_rows
from controlplane.server.services.errors import (
    AlreadyExists,
    Conflict,
    HostUnavailable,
    Invalid,
)
from controlplane.server.services.overlays import hand_over
from controlplane.server.services.runtime import Runtime, kick_all


async def list_hosts(session: AsyncSession) -> list[Host]:
    """Every host, by id."""
    return await list_rows(session, Host)


async def get_host(session: AsyncSession, host_id: int) -> Host:
    """The host, or NotFound."""
    return await get_row(session, Host, host_id)


async def register_host(session: AsyncSession, rt: Runtime, data: HostCreate) -> Host:
    """Call the agent with the given URL and token; store the host only if it answers.

    Its reconciler starts at once, and the registration is recorded as an event.
    """
    url = str(data.agent_url).rstrip("/")
    if (await session.exec(select(Host).where(Host.name == data.name))).first():
        raise AlreadyExists(f"a host named {data.name} exists", loc=["body", "name"])
    if (await session.exec(select(Host).where(Host.agent_url == url))).first():
        raise AlreadyExists(f"a host with agent {url} exists", loc=["body", "agent_url"])
    sealed = rt.agents.seal(data.agent_token)
    async with rt.agents(url, sealed) as agent:
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
    await _one_engine_one_host(session, info.engine_id)
    host = Host(
        name=data.name,
        agent_url=url,
        agent_token=sealed,
        labels=data.labels,
        status=HostStatus.ready,
        last_seen=utcnow(),
        hostname=info.hostname,
        docker_version=info.docker_version,
        addresses=info.addresses,
        engine_id=info.engine_id or None,
    )
    session.add(host)
    await session.commit()
    await session.refresh(host)
    rt.reconcilers.kick(host.id or 0)
    await rt.events.emit(
        "host", "register", "ok", resource_id=host.id, resource_name=host.name, host_id=host.id
    )
    return host


async def _one_engine_one_host(session: AsyncSession, engine_id: str) -> None:
    """409 when a host already drives this Docker engine (through another agent).

    Two hosts on one engine would each remove the other's containers as strays.
    The unique index on hosts.engine_id settles two registrations racing here.
    """
    if not engine_id:
        return
    holder = (await session.exec(select(Host).where(Host.engine_id == engine_id))).first()
    if holder is not None:
        raise Conflict(
            f"host {holder.name} already drives the Docker engine {engine_id} "
            f"(through {holder.agent_url})",
            loc=["body", "agent_url"],
        )


async def seal_stored_tokens(session: AsyncSession, agents: Agents) -> int:
    """Seal the agent tokens a database from before sealing holds in plaintext; how many."""
    rows = [h for h in await session.exec(select(Host)) if not is_sealed(h.agent_token)]
    for host in rows:
        host.agent_token = agents.seal(host.agent_token)
    await session.commit()
    return len(rows)


async def update_host(session: AsyncSession, rt: Runtime, host_id: int, data: HostUpdate) -> Host:
    """Change a host's labels or agent token (stored sealed)."""
    host = await get_host(session, host_id)
    if data.labels is not None:
        host.labels = data.labels
    if data.agent_token is not None:
        host.agent_token = rt.agents.seal(data.agent_token)
    await session.commit()
    await session.refresh(host)
    rt.reconcilers.kick(host_id)
    return host


async def delete_host(
    session: AsyncSession, rt: Runtime, host_id: int, force: bool, forget: bool
) -> None:
    """Forget a host after removing what this control plane made there; record it.

    The host's reconciler stops first, so a pass in flight cannot recreate what is
    being removed; it starts again if the host is not forgotten after all.
    """
    await get_host(session, host_id)  # an unknown id must not start a reconciler below
    await rt.reconcilers.stop(host_id)
    try:
        host = await _remove_host(session, rt, host_id, force, forget)
    except Exception:
        rt.reconcilers.ensure(host_id)
        raise
    kick_all(rt)  # its overlays' peers and DNS on every other host
    await rt.events.emit(
        "host",
        "remove",
        "ok",
        resource_id=host_id,
        resource_name=host.name,
        host_id=host_id,
        reason="forgotten" if forget else "forced" if force else None,
    )


async def _remove_host(
    session: AsyncSession, rt: Runtime, host_id: int, force: bool, forget: bool
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
        async with rt.agents(host.agent_url, host.agent_token) as agent:
            for c in await agent.list_containers({labels.OWNER: rt.owner}):
                await agent.delete_container(c.name)
            for n in await agent.list_networks({labels.OWNER: rt.owner}):
                if VNI_LABEL in n.labels:  # an overlay: its VXLAN device goes too
                    await agent.delete_overlay(n.name)
                else:
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
    await hand_over(session, host_id)
    await session.exec(delete(Network).where(col(Network.host_id) == host_id))
    await session.delete(host)
    await session.commit()
    return host
