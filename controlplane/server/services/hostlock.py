"""One writer at a time per host, for the writes whose checks read the host's others.

This module exists to prevent one failure: two requests that each check "is host
port 8080 free?" (or a subnet, or a fixed address) before either has written,
both see yes, and both are stored; the loser then fails in Docker forever. 20
parallel POSTs with one host port were accepted up to 15 times.

Overlapping subnets and wildcard-vs-specific host addresses cannot be written as
unique constraints, so the check and the insert run under a lock on the host's
row instead: an UPDATE of it, which PostgreSQL and MariaDB hold as a row lock and
SQLite as its single write lock, until the transaction ends. Exactly one of the
racers wins; the others see its row and get 409, on all three databases.
"""

from collections.abc import Sequence

from sqlmodel import col, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from controlplane.server.models import Host
from controlplane.server.services.errors import Invalid, NotFound


async def lock_host(
    session: AsyncSession, host_id: int, loc: Sequence[str | int] | None = None
) -> None:
    """Hold the host's write lock until the session commits; NotFound (Invalid at loc).

    Ends the session's transaction first: MariaDB's REPEATABLE READ keeps the
    snapshot of a transaction's first read, so a read made before the lock would
    not see what the previous holder committed. Loaded objects stay usable.
    """
    await session.commit()
    if not await _bump(session, host_id):
        detail = f"no host {host_id}"
        raise NotFound(detail) if loc is None else Invalid(detail, loc=loc)


async def lock_all_hosts(session: AsyncSession) -> None:
    """Hold every host's write lock (in id order, so two holders never deadlock).

    For writes whose checks read every host's resources: an overlay's subnet must
    overlap no network anywhere, and a bridge's write holds its own host's lock,
    so the two never pass their checks side by side.
    """
    ids = sorted(i for i in await session.exec(select(Host.id)) if i is not None)
    # Ends the transaction of that read, as lock_host does: later reads see the holders'.
    await session.commit()
    for host_id in ids:
        await _bump(session, host_id)


async def _bump(session: AsyncSession, host_id: int) -> bool:
    """Take the host's row lock (an UPDATE of it); False when there is no such host."""
    bump = (
        update(Host)
        .where(col(Host.id) == host_id)
        .values(write_lock=col(Host.write_lock) + 1)
        .execution_options(synchronize_session=False)
    )
    result = await session.exec(bump)
    return bool(result.rowcount)
