"""Probe: measure this host's peers (reachability, route device, MTU)."""

from fastapi import APIRouter

from controlplane.agent.api.deps import blocking
from controlplane.agent.overlay.probe import probe
from controlplane.contract.probe import ProbeRequest, ProbeResult

router = APIRouter(prefix="/v1/probe", tags=["overlays"])


@router.post("", response_model=list[ProbeResult])
async def probe_peers(body: ProbeRequest) -> list[ProbeResult]:
    """Try a TCP connection to each target's agent and report the route's device and MTU."""
    return await blocking(probe, body)
