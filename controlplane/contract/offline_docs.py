"""/docs and /redoc that work with no network: Swagger UI and ReDoc served by the app.

FastAPI's default pages load their JS and CSS from a CDN, which air-gapped
machines (and every machine here) cannot reach: the page stays blank. The
assets come from the `fastapi-offline` package's static files instead (Swagger UI
5, which reads OpenAPI 3.1). The server and the agent share this; the search API
can call the same package the same way without importing controlplane.
"""

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import fastapi_offline
from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.params import Depends
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

ASSETS = Path(fastapi_offline.__file__).parent / "static"
ASSETS_URL = "/docs-assets"
# Create the app with these, then call `install`.
NO_DEFAULT_DOCS: dict[str, Any] = {"docs_url": None, "redoc_url": None, "openapi_url": None}


def install(app: FastAPI, dependencies: Sequence[Depends] = ()) -> None:
    """Serve /openapi.json, /docs and /redoc, each behind `dependencies` (e.g. a token).

    The assets (public Swagger UI and ReDoc builds, nothing of this app) are served
    without them, at /docs-assets.
    """
    app.mount(ASSETS_URL, StaticFiles(directory=ASSETS), name="docs-assets")
    deps = list(dependencies)

    @app.get("/openapi.json", include_in_schema=False, dependencies=deps)
    async def openapi() -> JSONResponse:
        return JSONResponse(app.openapi())

    @app.get("/docs", include_in_schema=False, dependencies=deps)
    async def swagger(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_swagger_ui_html(
            openapi_url=f"{root}/openapi.json",
            title=f"{app.title} - Swagger UI",
            swagger_js_url=f"{root}{ASSETS_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{ASSETS_URL}/swagger-ui.css",
            swagger_favicon_url=f"{root}{ASSETS_URL}/favicon.png",
        )

    @app.get("/redoc", include_in_schema=False, dependencies=deps)
    async def redoc(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_redoc_html(
            openapi_url=f"{root}/openapi.json",
            title=f"{app.title} - ReDoc",
            redoc_js_url=f"{root}{ASSETS_URL}/redoc.standalone.js",
            redoc_favicon_url=f"{root}{ASSETS_URL}/favicon.png",
            with_google_fonts=False,
        )
