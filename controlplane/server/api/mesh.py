"""/mesh: the encrypted overlays' tunnels — the password (`weave --password`) and key rotation."""

from fastapi import APIRouter, Response, status

from controlplane.server.api.deps import Caller, RuntimeDep, SessionDep
from controlplane.server.models.mesh import MeshPassword, MeshPublic
from controlplane.server.services import mesh as svc

router = APIRouter(tags=["peerings"])


@router.get("/mesh", response_model=MeshPublic)
async def get_mesh(session: SessionDep, rt: RuntimeDep, _: Caller) -> MeshPublic:
    """The tunnel network, whether a password is set, and each host's tunnel and public key."""
    return await svc.get_mesh(session, rt)


@router.put("/mesh/password", response_model=MeshPublic)
async def set_password(
    data: MeshPassword, session: SessionDep, rt: RuntimeDep, _: Caller
) -> MeshPublic:
    """Set the mesh password: every tunnel's pre-shared key is derived from it and pushed."""
    return await svc.set_password(session, rt, data)


@router.delete("/mesh/password", status_code=status.HTTP_204_NO_CONTENT)
async def clear_password(session: SessionDep, rt: RuntimeDep, _: Caller) -> Response:
    """Remove the pre-shared key (tunnels stay encrypted by their key pairs)."""
    await svc.clear_password(session, rt)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/mesh/rotate", response_model=MeshPublic)
async def rotate_keys(session: SessionDep, rt: RuntimeDep, _: Caller) -> MeshPublic:
    """A new WireGuard key pair on every tunnelled host; peers take the new keys up.
    Networks and containers stay as they are."""
    return await svc.rotate_keys(session, rt)
