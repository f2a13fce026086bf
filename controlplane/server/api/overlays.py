"""/dns and /ipam: what the overlays' DNS serves on each host, and their central IPAM."""

from fastapi import APIRouter

from controlplane.server.api.deps import Caller, RuntimeDep, SessionDep
from controlplane.server.models import HostRecords, NetworkIpam
from controlplane.server.services import overlays as svc

router = APIRouter(tags=["overlays"])


@router.get("/dns", response_model=list[HostRecords])
async def dns_records(session: SessionDep, rt: RuntimeDep, _: Caller) -> list[HostRecords]:
    """Per host, the `*.weave.local` records it serves: every running container on an
    overlay in its mesh, by name, hostname, service and alias."""
    return await svc.dns_status(session, rt)


@router.get("/ipam", response_model=list[NetworkIpam])
async def ipam(session: SessionDep, _: Caller) -> list[NetworkIpam]:
    """Per overlay network: its subnet, each host's blocks and each container's address."""
    return await svc.ipam_status(session)
