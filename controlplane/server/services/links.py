"""Links: records of "`from` reaches `to` as `alias`"; the reconciler keeps them current."""

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from controlplane.contract.linkfiles import link_env
from controlplane.server.models import Container, Host, Link, LinkCreate, LinkPublic, Network
from controlplane.server.reconcile.linkplan import LinkWorld, link_address, link_target
from controlplane.server.services.errors import AlreadyExists, Invalid, NotFound


async def list_links(session: AsyncSession, container_id: int | None = None) -> list[Link]:
    """Links, optionally those from or to one container."""
    query = select(Link).order_by(col(Link.id))
    if container_id is not None:
        query = query.where((Link.from_id == container_id) | (Link.to_id == container_id))
    return list(await session.exec(query))


async def get_link(session: AsyncSession, link_id: int) -> Link:
    """The link, or NotFound."""
    link = await session.get(Link, link_id)
    if link is None:
        raise NotFound(f"no link {link_id}")
    return link


async def create_link(session: AsyncSession, data: LinkCreate) -> Link:
    """Record a link; `to` need not run yet, and links may be circular."""
    if await session.get(Container, data.from_id) is None:
        raise Invalid(f"no container {data.from_id}", loc=["body", "from"])
    if await session.get(Container, data.to_id) is None:
        raise Invalid(f"no container {data.to_id}", loc=["body", "to"])
    if data.from_id == data.to_id:
        raise Invalid("a container cannot link to itself", loc=["body", "to"])
    taken = await session.exec(
        select(Link).where(Link.from_id == data.from_id, Link.alias == data.alias)
    )
    if taken.first() is not None:
        raise AlreadyExists(
            f"container {data.from_id} already has a link {data.alias}", loc=["body", "alias"]
        )
    link = Link(from_id=data.from_id, to_id=data.to_id, alias=data.alias)
    session.add(link)
    await session.commit()
    await session.refresh(link)
    return link


async def delete_link(session: AsyncSession, link_id: int) -> Link:
    """Forget a link (the reconciler pushes `from`'s new link set)."""
    link = await get_link(session, link_id)
    await session.delete(link)
    await session.commit()
    return link


async def host_of(session: AsyncSession, container_id: int) -> int:
    """The host of a container (for kicking its reconciler)."""
    row = await session.get(Container, container_id)
    if row is None:
        raise NotFound(f"no container {container_id}")
    return row.host_id


async def link_public(session: AsyncSession, link: Link) -> LinkPublic:
    """The link with `to`'s current address and the env vars `from` gets."""
    source = await session.get(Container, link.from_id)
    to = await session.get(Container, link.to_id)
    address, env = None, {}
    if source is not None and to is not None:
        # Only the two ends' hosts matter (container:X and gateways are per host).
        ends = (source.host_id, to.host_id)
        world = LinkWorld.of(
            await session.exec(select(Container).where(col(Container.host_id).in_(ends))),
            await session.exec(select(Host).where(col(Host.id).in_(ends))),
            await session.exec(select(Network).where(Network.host_id == source.host_id)),
        )
        address = link_address(source, to, world)
        env = link_env(source.name, [link_target(link.alias, to.name, to.spec, address)])
    return LinkPublic(
        id=link.id or 0,
        from_id=link.from_id,
        to_id=link.to_id,
        alias=link.alias,
        address=address,
        env=env,
        created_at=link.created_at,
    )
