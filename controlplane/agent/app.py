"""The agent's FastAPI app: `create_app(settings)`; the engine client lives in lifespan."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import docker
from fastapi import Depends, FastAPI
from starlette.concurrency import run_in_threadpool

from controlplane import __version__
from controlplane.agent import errors
from controlplane.agent.api import (
    changes,
    containers,
    dns,
    endpoints,
    images,
    networks,
    overlays,
    probe,
    reset,
    system,
    tunnel,
    volumes,
)
from controlplane.agent.auth import read_token, require_token
from controlplane.agent.dns.server import start_dns
from controlplane.agent.driver.engine import connect
from controlplane.agent.events import LinkKeeper
from controlplane.agent.settings import AgentSettings
from controlplane.contract import offline_docs
from controlplane.contract.bodylimit import BodyLimit
from controlplane.contract.bounds import MAX_BODY_BYTES
from controlplane.contract.headget import HeadAsGet
from controlplane.contract.httpmetrics import MetricsMiddleware, RequestMetrics
from controlplane.contract.openapi_errors import document_errors

DESCRIPTION = """The weft host agent: a narrow, authenticated API over this host's Docker
engine. Every verb is idempotent. Every call but `GET /healthz` (this page too) needs
`Authorization: Bearer <token>`. Errors are `application/problem+json`.
The raw Docker API is never exposed. Links: see `PUT /v1/containers/{name}/links`."""


def create_app(settings: AgentSettings, engine: docker.DockerClient | None = None) -> FastAPI:
    """The agent app; reads the token now, connects to the engine in lifespan."""
    token = read_token(settings.token_file)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        client = engine or connect(settings.docker_url, settings.docker_timeout)
        app.state.docker = client
        keeper = LinkKeeper(client) if settings.watch_events else None
        if keeper is not None:
            keeper.start()
        app.state.link_keeper = keeper
        app.state.dns = start_dns(settings)
        try:
            yield
        finally:
            if app.state.dns is not None:
                app.state.dns.stop()
            if keeper is not None:
                await run_in_threadpool(keeper.stop)
            if engine is None:
                client.close()

    app = FastAPI(
        title="weft agent",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        **offline_docs.NO_DEFAULT_DOCS,
    )
    app.state.settings = settings
    app.state.metrics = RequestMetrics("weft_agent")
    app.add_middleware(MetricsMiddleware, metrics=app.state.metrics)
    app.state.token = token
    app.state.dns = None
    app.state.link_keeper = None
    if engine is not None:
        app.state.docker = engine
    errors.install(app)
    # Image tarballs are streamed to the engine as they arrive, and may be gigabytes.
    app.add_middleware(BodyLimit, limit=MAX_BODY_BYTES, exempt=("/v1/images",))
    app.add_middleware(HeadAsGet)
    app.include_router(system.open_router)
    secured = [Depends(require_token)]
    # The agent's API description is for its callers only, like the API itself.
    offline_docs.install(app, secured)
    app.include_router(system.router, dependencies=secured)
    app.include_router(networks.router, dependencies=secured)
    app.include_router(containers.router, dependencies=secured)
    app.include_router(images.router, dependencies=secured)
    app.include_router(volumes.router, dependencies=secured)
    app.include_router(overlays.router, dependencies=secured)
    app.include_router(dns.router, dependencies=secured)
    app.include_router(probe.router, dependencies=secured)
    app.include_router(tunnel.router, dependencies=secured)
    app.include_router(endpoints.router, dependencies=secured)
    app.include_router(endpoints.ps_router, dependencies=secured)
    app.include_router(reset.router, dependencies=secured)
    app.include_router(changes.router, dependencies=secured)
    document_errors(app, ERRORS)
    return app


# What any agent operation may answer besides its own success (problem+json).
ERRORS = {
    400: "The body is not JSON.",
    401: "No token, or a wrong one.",
    403: "Not allowed on this host (a bind mount outside the allowed directories).",
    404: "No such object on this host.",
    409: "Conflicts with the host's state (in use, port taken, image missing).",
    413: "The request body is over the size limit.",
    422: "A field is invalid; `errors[].loc` names it.",
    502: "The Docker engine answered with an error.",
    503: "The Docker engine did not answer.",
}
