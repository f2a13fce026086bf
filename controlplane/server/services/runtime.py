"""What services share beyond a request's session, and the end of every write.

Every write stores desired state, then hands the host to its reconciler; with
`?wait=true` it answers once the reconciler settled the resource (or at the
timeout). That last step is `converge`/`converge_host`, the one way writes end.
The reconcilers are passed in here, so services call down into `reconcile` and
nothing there imports back up.
"""

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

from sqlmodel.ext.asyncio.session import AsyncSession

from controlplane.server.agents import Agents
from controlplane.server.db import SessionMaker
from controlplane.server.eventlog import EventBus, Recorder
from controlplane.server.models import Container, Network
from controlplane.server.models.common import ResourceStatus
from controlplane.server.reconcile.supervisor import Reconcilers
from controlplane.server.settings import Settings

R = TypeVar("R", Container, Network)


@dataclass
class Runtime:
    """Everything the lifespan creates and the services use."""

    settings: Settings
    sessions: SessionMaker
    owner: str
    agents: Agents
    bus: EventBus
    events: Recorder
    reconcilers: Reconcilers
    # Set by every stack write: the stack deployer makes a pass at once.
    stack_wake: asyncio.Event = field(default_factory=asyncio.Event)


async def converge(
    rt: Runtime,
    row: R,
    wait: bool,
    reread: Callable[[AsyncSession, int], Awaitable[R]],
) -> R:
    """Kick the row's host; with `wait`, the row once settled, re-read (`reread`'s errors).

    The host is kicked once; then the wait follows the passes the runner makes on its
    own (a retry due, a slow call landing, the interval), so a waiting client never
    drives passes faster than the backoff allows.
    """
    rt.reconcilers.kick(row.host_id)
    if not wait:
        return row
    rid = row.id or 0
    deadline = time.monotonic() + rt.settings.wait_timeout
    kick = True
    while (left := deadline - time.monotonic()) > 0:
        passed = await rt.reconcilers.wait_pass(row.host_id, left, kick)
        kick = False
        async with rt.sessions() as session:
            now = await session.get(type(row), rid)
        if now is None or now.status != ResourceStatus.pending or not passed:
            break
    async with rt.sessions() as session:
        return await reread(session, rid)


async def converge_host(rt: Runtime, host_id: int, wait: bool) -> None:
    """Kick the host; with `wait`, return after a full pass and its slow calls (deletes)."""
    rt.reconcilers.kick(host_id)
    if wait:
        await rt.reconcilers.settled(host_id, rt.settings.wait_timeout)
