"""The search API's app factory: `uvicorn --factory searchapi.app:create_app`."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.types import Receive, Scope, Send

from searchapi import api, bench_routes, ops, page, problems
from searchapi.fastpath import FastCities
from searchapi.metrics import Metrics
from searchapi.middleware import ServeMiddleware
from searchapi.pool import Pool
from searchapi.settings import Settings
from searchapi.snapshot import IndexHolder

DESCRIPTION = """\
Search the GeoNames cities of the world database by name.

`GET /cities?q=darwin` finds every city whose name contains the text, ignoring
case and accents, like the original page's `LIKE '%darwin%'` but served from an
n-gram index held in memory and reloaded from MariaDB when the data changes
(exact: the same answers as a full scan over folded names). Queries of one or
two characters match name *prefixes* only. `fuzzy` tolerates typos (`darwn`
finds Darwin; automatic when nothing matches exactly), `near=lat,lon` ranks by
distance and population. `offset` is capped at 10,000 and `limit` at 500.
Errors are `application/problem+json`.

The original page lives on at `/` and `/search.php?searchFor=...`.
"""


class SearchApp(FastAPI):
    """FastAPI, with plainly valid GET /cities answered before its machinery (fastpath.py)."""

    fast: FastCities | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one ASGI connection."""
        if (
            self.fast is not None
            and scope["type"] == "http"
            and scope["path"] == "/cities"
            and await self.fast.handle(scope, send)
        ):
            return
        await super().__call__(scope, receive, send)


def create_app(settings: Settings | None = None) -> SearchApp:
    """A configured app; the pool opens lazily, the index loads in the background."""
    settings = settings or Settings()
    metrics = Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        pool = Pool(settings)
        holder = IndexHolder(settings)
        app.state.pool = pool
        app.state.holder = holder
        metrics.watch_pool(lambda: pool.in_use, lambda: pool.open, pool.size)
        metrics.watch_index(lambda: holder.index.size if holder.index else 0)
        if settings.memory_index:
            holder.start()
            fast_app.fast = FastCities(holder, metrics)
        try:
            yield
        finally:
            fast_app.fast = None
            await holder.stop()
            await pool.close()

    app = fast_app = SearchApp(
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
