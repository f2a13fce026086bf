"""/metrics: Prometheus text format (any token, a reader's too)."""

from fastapi import APIRouter, Request, Response

from controlplane.server.api.deps import Caller, SessionDep
from controlplane.server.metrics import ServerMetrics

router = APIRouter(tags=["health"])


@router.get("/metrics", response_class=Response)
async def metrics(request: Request, session: SessionDep, _: Caller) -> Response:
    """Requests by route and status; reconcile passes, failures and backoff per host;
    hosts and resources by status; events written; event-stream subscribers."""
    registry: ServerMetrics = request.app.state.metrics
    await registry.counts.read(session)
    return registry.response()
