"""Wake a host's reconciler when its engine's containers change, instead of waiting to poll.

The failure this module exists to prevent: a container stops or restarts on one
host and the other hosts' DNS keep answering its old state until the next pass
(seconds). Each host's agent counts its weft containers' start/die/destroy
events; one task per host long-polls that count and kicks the host's runner the
moment it moves, and records the host's containers at once: a changed address
pushes the mesh's DNS to every host before the pass has looked at the rest. An
agent without the feed, or one that is away, is retried slowly: the interval
pass still converges it.
"""

import asyncio
import logging
from collections.abc import Callable

from controlplane.server.agentclient import AgentClientError, AgentNotFound
from controlplane.server.models import Host
from controlplane.server.reconcile.runner import Context

log = logging.getLogger("weft.reconcile")

# Seconds an agent holds a long poll open, and the pause after a failed one.
POLL_S = 25.0
RETRY_S = 5.0


async def watch_changes(host_id: int, ctx: Context, kick: Callable[[], None]) -> None:
    """Long-poll the host's change feed until cancelled; `kick` on every change."""
    last: tuple[str, int] | None = None
    while True:
        async with ctx.sessions() as session:
            host = await session.get(Host, host_id)
        if host is None:
            return
        try:
            async with ctx.agent_factory(host.agent_url, host.agent_token) as agent:
                if last is None:  # where the count stands now: no waiting, no kick
                    first = await agent.wait_changes(0, 0)
                    last = (first.boot, first.seq)
                while True:
                    now = await agent.wait_changes(last[1], POLL_S)
                    if (now.boot, now.seq) != last:
                        kick()
                    last = (now.boot, now.seq)
        except AgentNotFound:  # an older agent: the interval pass is all there is
            await asyncio.sleep(POLL_S * 4)
        except AgentClientError as exc:
            log.debug("change feed of host %s: %s", host_id, exc)
            await asyncio.sleep(RETRY_S)
