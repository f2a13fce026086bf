"""Reset: remove everything weft put on this host (`weave reset`)."""

from fastapi import APIRouter, Request

from controlplane.agent.api.deps import Engine, Settings, blocking
from controlplane.agent.reset import reset
from controlplane.contract.weave import ResetResult

router = APIRouter(tags=["system"])


@router.post("/v1/reset", response_model=ResetResult)
async def reset_host(engine: Engine, settings: Settings, request: Request) -> ResetResult:
    """Remove weft's containers (stopped first), networks, overlays' VXLAN devices, tunnels
    (and the wireguard-go processes the agent started), DNS records and exposed addresses.
    Containers and networks weft did not make stay (a foreign container is only taken off
    weft's networks), and so do named volumes, images and the host's WireGuard key.
    Idempotent: a second call removes nothing and says so."""
    return await blocking(reset, engine, settings.state_dir, request.app.state.dns)
