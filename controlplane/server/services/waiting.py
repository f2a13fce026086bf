"""`?wait=true`: wait (bounded) for the reconciler to settle a resource."""

import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlmodel.ext.asyncio.session import AsyncSession

from controlplane.server.db import SessionMaker
from controlplane.server.models import Container, Network
from controlplane.server.reconcile.supervisor import Reconcilers

R = TypeVar("R", Container, Network)


async def wait_settled(
    sessions: SessionMaker,
    reconcilers: Reconcilers,
    table: type[Container] | type[Network],
    rid: int,
    host_id: int,
    timeout: float,
) -> None:
    """Return once the row is converged, failed or gone, or when timeout runs out."""
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        passed = await reconcilers.wait_pass(host_id, left)
        async with sessions() as session:
            row = await session.get(table, rid)
            if getattr(row, "status", None) != "pending" or not passed:
                return


async def settled(
    sessions: SessionMaker,
    reconcilers: Reconcilers,
    row: R,
    timeout: float,
    reread: Callable[[AsyncSession, int], Awaitable[R]],
) -> R:
    """Wait (bounded) for the row to settle, then the row as it is now (`reread`'s errors)."""
    await wait_settled(sessions, reconcilers, type(row), row.id or 0, row.host_id, timeout)
    async with sessions() as session:
        return await reread(session, row.id or 0)


async def wait_pass(reconcilers: Reconcilers, host_id: int, timeout: float) -> bool:
    """Wait for one full reconcile pass of the host (deletes, links)."""
    return await reconcilers.wait_pass(host_id, timeout)
