"""Central IPAM in the database: the pure planner's choices, made to stick under concurrency.

The failure this module exists to prevent: two writers (two hosts' reconcilers,
or a reconciler racing itself after a restart) each reading the free blocks,
both picking the same one, and two hosts then handing out the same addresses.
Every choice is the pure planner's (`reconcile.ipam`), written as one row that a
unique constraint guards (`models.overlay`): the loser of a race gets an
IntegrityError, rolls back, reads what the winner wrote and chooses again. Each
write commits on its own, so a process killed in between loses nothing: the
next pass finds the row, or makes it.
"""

from collections.abc import Collection

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, delete, select

from controlplane.server.db import SessionMaker
from controlplane.server.models import Network, OverlayAddress, OverlayBlock
from controlplane.server.reconcile import ipam

# Tries before giving up on a write that keeps losing races (each loss means
# another writer made progress, so this is never reached in practice).
RETRIES = 20


class IpamExhausted(Exception):
    """The overlay's subnet has no room left for the host."""


async def _blocks(sessions: SessionMaker, network_id: int) -> dict[int, list[str]]:
    async with sessions() as session:
        rows = await session.exec(
            select(OverlayBlock)
            .where(OverlayBlock.network_id == network_id)
            .order_by(col(OverlayBlock.id))
        )
        out: dict[int, list[str]] = {}
        for row in rows:
            out.setdefault(row.host_id, []).append(row.block)
        return out


async def _used(sessions: SessionMaker, network_id: int, host_id: int) -> dict[int | None, str]:
    """Container id -> address, for the host's containers on the network (None: the host's)."""
    async with sessions() as session:
        rows = await session.exec(
            select(OverlayAddress).where(
                OverlayAddress.network_id == network_id, OverlayAddress.host_id == host_id
            )
        )
        return {r.container_id: r.address for r in rows}


async def _insert(sessions: SessionMaker, row: OverlayBlock | OverlayAddress) -> bool:
    """Insert and commit; False when a unique constraint says someone was first."""
    async with sessions() as session:
        session.add(row)
        try:
            await session.commit()
        except IntegrityError:
            await session.rollback()
            return False
    return True


async def host_blocks(sessions: SessionMaker, net: Network, host_id: int, need: int) -> list[str]:
    """The host's blocks of `net`, grown until they hold `need` container addresses."""
    for _ in range(RETRIES):
        # The planner keys hosts by name; ids as strings serve.
        current = {str(h): b for h, b in (await _blocks(sessions, net.id or 0)).items()}
        demand = dict.fromkeys(current, 0) | {str(host_id): need}
        try:
            plan = ipam.plan_ranges(net.subnet, ipam.DEFAULT_BLOCK_PREFIX, current, demand)
        except ipam.IpamError as exc:
            raise IpamExhausted(str(exc)) from None
        added = plan.added.get(str(host_id), [])
        if not added:
            return plan.ranges[str(host_id)]
        ok = True
        for block in added:
            ok = ok and await _insert(
                sessions, OverlayBlock(network_id=net.id or 0, host_id=host_id, block=block)
            )
        if ok:
            return plan.ranges[str(host_id)]
    raise IpamExhausted(f"could not reserve a block of {net.name} for host {host_id}")


async def address_of(
    sessions: SessionMaker, net: Network, host_id: int, container_id: int | None
) -> str:
    """The container's address on `net` (None: the host's own, exposed), handed out from
    its host's blocks on first ask."""
    for _ in range(RETRIES):
        used = await _used(sessions, net.id or 0, host_id)
        if container_id in used:
            return used[container_id]
        blocks = await host_blocks(sessions, net, host_id, len(used) + 1)
        try:
            address = ipam.allocate(net.subnet, blocks, used.values())
        except ipam.IpamError as exc:
            raise IpamExhausted(str(exc)) from None
        row = OverlayAddress(
            network_id=net.id or 0,
            container_id=container_id,
            host_id=host_id,
            address=address,
            exposed=True if container_id is None else None,
        )
        if await _insert(sessions, row):
            return address
    who = "the host" if container_id is None else f"container {container_id}"
    raise IpamExhausted(f"could not reserve an address of {net.name} for {who}")


async def release(
    sessions: SessionMaker, network_id: int, host_id: int, keep: Collection[int]
) -> None:
    """Free the addresses of the host's containers no longer on the network (not in `keep`)."""
    async with sessions() as session:
        await session.exec(
            delete(OverlayAddress).where(
                col(OverlayAddress.network_id) == network_id,
                col(OverlayAddress.host_id) == host_id,
                col(OverlayAddress.container_id).is_not(None),  # the host's own stays
                col(OverlayAddress.container_id).not_in(list(keep)),
            )
        )
        await session.commit()


async def hide(sessions: SessionMaker, network_id: int, host_id: int) -> bool:
    """Give back the host's exposed address on the network; False when it had none."""
    async with sessions() as session:
        result = await session.exec(
            delete(OverlayAddress).where(
                col(OverlayAddress.network_id) == network_id,
                col(OverlayAddress.host_id) == host_id,
                col(OverlayAddress.container_id).is_(None),
            )
        )
        await session.commit()
    return bool(result.rowcount)


async def release_departed(sessions: SessionMaker, network_id: int, keep: Collection[int]) -> None:
    """Give back the blocks of hosts off the network (not in `keep`) to the pool."""
    async with sessions() as session:
        await session.exec(
            delete(OverlayBlock).where(
                col(OverlayBlock.network_id) == network_id,
                col(OverlayBlock.host_id).not_in(list(keep)),
            )
        )
        await session.commit()
