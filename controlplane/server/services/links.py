"""Links: records of "`from` reaches `to` as `alias`"; the reconciler keeps them current."""

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from controlplane.contract.linkfiles import link_env
from controlplane.server.models import Container, Host, Link, LinkCreate, LinkPublic, Network
from controlplane.server.reconcile.linkplan import LinkWorld, link_address, link_target
from controlplane.server.services.crud import get_row, list_rows
from controlplane.server.services.errors import AlreadyExists, Invalid
from controlplane.server.services.runtime import Runtime, converge_host


async def list_links(session: AsyncSession, container_id: int | None = None) -> list[LinkPublic]:
    """Links, optionally those from or to one container, with `to`'s current address."""
    ends = None
    if container_id is not None:
        ends = (col(Link.from_id) == container_id) | (col(Link.to_id) == container_id)
    return [await link_public(session, k) for k in await list_rows(session, Link, ends)]


async def get_link(session: AsyncSession, link_id: int) -> LinkPublic:
    """The link with `to`'s current address, or NotFound."""
    return await link_public(session, await get_row(session, Link, link_id))


async def create_link(
    session: AsyncSession, rt: Runtime, data: LinkCreate, wait: bool
) -> LinkPublic:
    """Record a link; `to` need not run yet, and links may be circular.

    With `wait`, the answer comes after `from`'s host has pushed the link (one
    reconcile pass), with the address as it is then.
    """
    frm = await get_row(session, Container, data.from_id, ["body", "from"])
    await get_row(session, Container, data.to_id, ["body", "to"])
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
    await converge_host(rt, frm.host_id, wait)
    if not wait:
        return await link_public(session, link)
    async with rt.sessions() as fresh:
        return await get_link(fresh, link.id or 0)


async def delete_link(session: AsyncSession, rt: Runtime, link_id: int) -> None:
    """Forget a link (the reconciler pushes `from`'s new link set)."""
    link = await get_row(session, Link, link_id)
    frm = await get_row(session, Container, link.from_id)
    await session.delete(link)
    await session.commit()
    await converge_host(rt, frm.host_id, False)


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
