"""`weft server`: the app factory and its lifespan (engine, agents, reconcilers)."""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI

from controlplane import __version__
from controlplane.contract import offline_docs
from controlplane.contract.bodylimit import BodyLimit
from controlplane.contract.bounds import MAX_BODY_BYTES
from controlplane.contract.headget import HeadAsGet
from controlplane.contract.httpmetrics import MetricsMiddleware
from controlplane.contract.openapi_errors import document_errors
from controlplane.server.agents import Agents
from controlplane.server.api import (
    containers,
    events,
    hosts,
    links,
    mesh,
    networks,
    overlays,
    peerings,
    problem,
    stacks,
    tokens,
    weave,
)
from controlplane.server.api import metrics as metrics_api
from controlplane.server.api.deps import Caller, RuntimeDep
from controlplane.server.auth import ensure_admin_token, ensure_identity
from controlplane.server.db import make_engine, make_sessionmaker, upgrade
from controlplane.server.eventlog import EventBus, Recorder
from controlplane.server.metrics import ServerMetrics
from controlplane.server.models import StackCreate
from controlplane.server.reconcile.runner import Context
from controlplane.server.reconcile.supervisor import Reconcilers
from controlplane.server.sealing import load_box
from controlplane.server.services import stackdeploy
from controlplane.server.services.hosts import seal_stored_tokens
from controlplane.server.services.retention import prune_forever, retention_of
from controlplane.server.services.runtime import Runtime
from controlplane.server.settings import Settings
from controlplane.server.statedir import secure_state

log = logging.getLogger("weft.server")


def create_app(
    settings: Settings | None = None, agent_transport: httpx.AsyncBaseTransport | None = None
) -> FastAPI:
    """The control plane's FastAPI app."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        secure_state(settings.state_dir, settings.db_url)
        engine = make_engine(settings.db_url)
        await upgrade(engine)
        sessions = make_sessionmaker(engine)
        agents = Agents(settings, load_box(settings.agent_token_key), agent_transport)
        async with sessions() as session:
            if sealed := await seal_stored_tokens(session, agents):
                log.warning("sealed %d agent tokens stored in plaintext", sealed)
        if await ensure_admin_token(sessions, settings.admin_token_file):
            log.warning("admin token written to %s", settings.admin_token_file)
        owner = await ensure_identity(sessions)
        bus = EventBus()
        recorder = Recorder(sessions, bus)
        reconcilers = Reconcilers(
            Context(sessions, owner, settings, agents, recorder, open_sealed=agents.open)
        )
        rt = Runtime(settings, sessions, owner, agents, bus, recorder, reconcilers)
        app.state.weft = rt
        metrics.watch(reconcilers, bus)
        await reconcilers.start()
        tasks = [
            asyncio.create_task(
                prune_forever(sessions, retention_of(settings), settings.events_prune_interval),
                name="weft-event-pruner",
            ),
            asyncio.create_task(stackdeploy.run_forever(rt), name="weft-stack-deployer"),
        ]
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await reconcilers.close()
            await engine.dispose()

    app = FastAPI(
        title="weft control plane",
        version=__version__,
        description="Desired state for Docker hosts: hosts, bridge networks, containers, "
        "links, stacks (compose files) and events. Bearer token auth (the admin token "
        "is written to <state-dir>/admin.token on first start).",
        lifespan=lifespan,
        **offline_docs.NO_DEFAULT_DOCS,
    )
    metrics = ServerMetrics()
    app.state.metrics = metrics
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    offline_docs.install(app)
    problem.install(app)
    app.add_middleware(BodyLimit, limit=MAX_BODY_BYTES)
    app.add_middleware(HeadAsGet)
    for module in (
        hosts,
        networks,
        containers,
        links,
        stacks,
        peerings,
        overlays,
        weave,
        mesh,
        events,
        tokens,
        metrics_api,
    ):
        app.include_router(module.router)

    @app.get("/info", tags=["health"])
    async def info(rt: RuntimeDep, _: Caller) -> dict[str, str]:
        """This control plane's version and id (the `weft.owner` label on what it creates)."""
        return {"version": __version__, "owner": rt.owner}

    @app.get("/healthz", tags=["health"])
    async def healthz() -> dict[str, str]:
        """Liveness (no token needed)."""
        return {"status": "ok"}

    document_errors(app, ERRORS, [StackCreate])
    return app


# What any operation may answer besides its own success (problem+json, one handler).
ERRORS = {
    400: "The body is not JSON.",
    401: "No token, or an unknown one.",
    403: "The token's role may not do this (a reader token writing).",
    404: "The resource (or one the path names) does not exist.",
    409: "Conflicts with existing state (a name, port, subnet or address is taken).",
    413: "The request body is over the size limit.",
    422: "A field is invalid; `errors[].loc` names it.",
    502: "The host's agent answered with an error.",
    503: "The host's agent did not answer.",
}


SHUTDOWN_GRACE = 5  # seconds open requests get on SIGTERM before they are cut


def serve(listen: str, settings: Settings) -> None:
    """Run the control plane with uvicorn on host:port."""
    import uvicorn

    host, _, port = listen.rpartition(":")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per agent call is noise
    uvicorn.run(
        create_app(settings),
        host=host.strip("[]") or "127.0.0.1",
        port=int(port),
        log_level="info",
        # An /events/stream follower never hangs up by itself; without a bound,
        # SIGTERM would wait for it forever. Followers resume by Last-Event-ID.
        timeout_graceful_shutdown=SHUTDOWN_GRACE,
    )
