"""The mesh's encryption: its password (the pre-shared key), and key rotation.

The password is turned into the tunnels' pre-shared key at once and only the
key is kept, sealed like agent tokens; each reconciler pushes it to its host's
tunnel. Rotation asks every tunnelled host's agent for a new key pair (the
private key never leaves the host), records the new public keys and kicks every
reconciler so each peer takes them up; networks are not recreated.
"""

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from controlplane.contract.tunnel import psk_fingerprint
from controlplane.server.agentclient import AgentClientError
from controlplane.server.models import Host, Meta
from controlplane.server.models.mesh import MeshHost, MeshPassword, MeshPublic
from controlplane.server.reconcile.overlays import MESH_PSK
from controlplane.server.reconcile.tunnelplan import derive_psk, interface_name, tunnel_address
from controlplane.server.services.errors import HostUnavailable
from controlplane.server.services.runtime import Runtime, kick_all


async def get_mesh(session: AsyncSession, rt: Runtime) -> MeshPublic:
    """The tunnel network, whether a password is set, and every host's tunnel."""
    network = str(rt.settings.tunnel_network)
    row = await session.get(Meta, MESH_PSK)
    hosts = await session.exec(select(Host).order_by(col(Host.id)))
    return MeshPublic(
        tunnel_network=network,
        password_set=row is not None,
        psk_fingerprint=psk_fingerprint(rt.agents.open(row.value)) if row else None,
        hosts=[
            MeshHost(
                host_id=h.id or 0,
                name=h.name,
                interface=interface_name(rt.owner, h.id or 0),
                tunnel_address=tunnel_address(network, h.id or 0),
                public_key=h.wg_public_key,
            )
            for h in hosts
        ],
    )


async def set_password(session: AsyncSession, rt: Runtime, data: MeshPassword) -> MeshPublic:
    """Derive and store (sealed) the tunnels' pre-shared key; every host takes it up."""
    sealed = rt.agents.seal(derive_psk(data.password, rt.owner))
    row = await session.get(Meta, MESH_PSK)
    if row is None:
        session.add(Meta(key=MESH_PSK, value=sealed))
    else:
        row.value = sealed
    await session.commit()
    await rt.events.emit("mesh", "password", "ok", reason="the tunnels' pre-shared key changed")
    kick_all(rt)
    return await get_mesh(session, rt)


async def clear_password(session: AsyncSession, rt: Runtime) -> None:
    """Tunnels without a pre-shared key from now on (still encrypted by their key pairs)."""
    row = await session.get(Meta, MESH_PSK)
    if row is not None:
        await session.delete(row)
        await session.commit()
        await rt.events.emit("mesh", "password", "ok", reason="the pre-shared key was removed")
    kick_all(rt)


async def rotate_keys(session: AsyncSession, rt: Runtime) -> MeshPublic:
    """A new key pair on every host that has a tunnel; peers take the new keys up."""
    hosts = list(await session.exec(select(Host).where(col(Host.wg_public_key).is_not(None))))
    failed = []
    for h in hosts:
        try:
            async with rt.agents(h.agent_url, h.agent_token) as agent:
                state = await agent.rotate_key(interface_name(rt.owner, h.id or 0))
        except AgentClientError as exc:
            failed.append(f"{h.name}: {exc}")
            continue
        h.wg_public_key = state.public_key
        session.add(h)
    await session.commit()
    kick_all(rt)
    if failed:
        raise HostUnavailable("keys not rotated on " + "; ".join(failed))
    await rt.events.emit("mesh", "rotate", "ok", reason=f"new keys on {len(hosts)} hosts")
    return await get_mesh(session, rt)
