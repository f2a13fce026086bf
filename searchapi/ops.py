"""Operations routes: /healthz, /readyz, /metrics."""

from fastapi import APIRouter, Request
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.responses import Response

from searchapi import queries
from searchapi.api import HolderDep, PoolDep, SettingsDep
from searchapi.problems import problem
from searchapi.render import json_response

router = APIRouter(tags=["operations"])


@router.get("/healthz", summary="The process is alive")
async def healthz() -> Response:
    """Always 200 while the process serves HTTP."""
    return json_response({"status": "ok"})


@router.get("/readyz", summary="The database answers, its data is loaded, and so is the index")
async def readyz(pool: PoolDep, holder: HolderDep, settings: SettingsDep) -> Response:
    """200 once load_state says 'loaded' and the in-process index is built; 503 otherwise.

    The answer names the data version the index holds (load_state's time and count).
    """
    status = await queries.load_status(pool)
    if status != "loaded":
        return problem(503, "Not ready", f"world data not loaded (load_state: {status})")
    if not settings.memory_index:
        return json_response({"status": "ready"})
    if holder.index is None:
        return problem(503, "Not ready", "the in-process search index is still loading")
    return json_response({"status": "ready", "data_version": holder.index.version})


@router.get("/metrics", summary="Prometheus metrics")
async def metrics(request: Request) -> Response:
    """Request counts, latency histograms and pool use, in Prometheus text format."""
    return Response(request.app.state.metrics.render(), media_type=CONTENT_TYPE_LATEST)
