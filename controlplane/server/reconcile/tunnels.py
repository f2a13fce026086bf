"""One host's WireGuard interface, made to match what its encrypted overlays need.

Called by the host's runner each pass, before its overlays are ensured (their
VTEP is the tunnel address, which must exist first). The host's public key,
which its agent reports and never its private key, is stored for its peers'
specs. When no encrypted overlay spans the host any more, the interface goes.
"""

from sqlalchemy import update
from sqlmodel import col

from controlplane.server.agentclient import AgentClient, AgentClientError
from controlplane.server.db import SessionMaker
from controlplane.server.models import Host
from controlplane.server.reconcile.overlays import HostOverlays
from controlplane.server.reconcile.tunnelplan import interface_name, tunnel_differs


async def _record_key(sessions: SessionMaker, host: Host, key: str | None) -> bool:
    """Store the host's public key; True when it changed (its peers must be told)."""
    if host.wg_public_key == key:
        return False
    async with sessions() as session:
        await session.exec(update(Host).where(col(Host.id) == host.id).values(wg_public_key=key))
        await session.commit()
    host.wg_public_key = key
    return True


async def sync_tunnel(
    agent: AgentClient, sessions: SessionMaker, host: Host, owner: str, mine: HostOverlays
) -> bool:
    """Bring the host's tunnel to `mine.tunnel` (or remove it); True when its public key
    changed. Fails closed: when the tunnel cannot be made, each encrypted overlay on the
    host is failed with the reason (its VXLAN has no VTEP, so it carries nothing)."""
    iface = interface_name(owner, host.id or 0)
    spec = mine.tunnel
    try:
        if spec is None:
            if host.wg_public_key is None:
                return False  # never had one
            await agent.delete_tunnel(iface)
            return await _record_key(sessions, host, None)
        seen = await agent.get_tunnel(iface)
        key = seen.public_key if seen is not None else await agent.public_key()
        changed = await _record_key(sessions, host, key)
        if seen is None or tunnel_differs(spec, seen):
            await agent.ensure_tunnel(spec)
        return changed
    except AgentClientError as exc:
        for nid in mine.encrypted:
            mine.failures[nid] = f"its WireGuard tunnel cannot be made: {exc}"
        return False
