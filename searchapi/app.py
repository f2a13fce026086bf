"""The search API's app factory: `uvicorn --factory searchapi.app:create_app`."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from searchapi import api, bench_routes, ops, page, problems
from searchapi.metrics import Metrics
from searchapi.middleware import ServeMiddleware
from searchapi.pool import Pool
from searchapi.settings import Settings

DESCRIPTION = """\
Search the GeoNames cities of the world database by name.

`GET /cities?q=darwin` finds every city whose name contains the text, ignoring
case and accents, like the original page's `LIKE '%darwin%'` but served from a
trigram index (exact: the same answers as a full scan over folded names).
Queries of one or two characters match name *prefixes* only. `offset` is capped
at 10,000 and `limit` at 500. Errors are `application/problem+json`.

The original page lives on at `/` and `/search.php?searchFor=...`.
"""


def create_app(settings: Settings | None = None) -> FastAPI:
    """A configured app; the pool opens lazily and closes with the lifespan."""
    settings = settings or Settings()
    metrics = Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        pool = Pool(settings)
        app.state.pool = pool
        metrics.watch_pool(lambda: pool.in_use, lambda: pool.open, pool.size)
        try:
            yield
        finally:
            await pool.close()

    app = FastAPI(
        title="weft world search", version="0.1.0", description=DESCRIPTION, lifespan=lifespan
    )
    app.state.settings = settings
    app.state.metrics = metrics
    app.include_router(api.router)
    app.include_router(page.router)
    app.include_router(ops.router)
    if settings.bench_endpoints:
        app.include_router(bench_routes.router)
    problems.install(app)
    app.add_middleware(ServeMiddleware, metrics=metrics)
    return app
