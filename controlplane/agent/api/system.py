"""Liveness and host info (the engine's networks among it)."""

from fastapi import APIRouter, Request, Response

from controlplane.agent.api.deps import Engine, Settings, blocking
from controlplane.agent.driver.info import agent_info
from controlplane.agent.driver.networks import engine_networks
from controlplane.contract.httpmetrics import RequestMetrics
from controlplane.contract.schemas import AgentInfo, EngineNetwork, Liveness

open_router = APIRouter(tags=["system"])
router = APIRouter(tags=["system"])


@open_router.get("/healthz", response_model=Liveness)
async def healthz() -> Liveness:
    """Liveness: the agent process answers (no credentials needed, no engine call)."""
    return Liveness()


@router.get("/v1/info", response_model=AgentInfo)
async def info(engine: Engine, settings: Settings) -> AgentInfo:
    """Host name, Docker version, underlay addresses, capacity and agent version."""
    return await blocking(agent_info, engine, settings.owner, settings.advertise_addresses)


@router.get("/v1/engine/networks", response_model=list[EngineNetwork])
async def list_engine_networks(engine: Engine) -> list[EngineNetwork]:
    """Every network the engine has, weft's or not, by name and subnets (to refuse overlaps)."""
    return await blocking(engine_networks, engine)


@router.get("/metrics", response_class=Response)
async def metrics(request: Request) -> Response:
    """Prometheus text format: requests by route and status, and their duration."""
    registry: RequestMetrics = request.app.state.metrics
    return registry.response()
