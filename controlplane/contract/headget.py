"""HEAD wherever GET exists (RFC 9110): answered as the GET, without the body.

FastAPI routes a GET-only path's HEAD to 405; clients and proxies that probe with
HEAD (and the OpenAPI description, which lists HEAD) expect the GET's status and
headers. The body is never sent, and the app is stopped after its first body
message, so a HEAD of an endless stream (Server-Sent Events) ends at once.
"""

import contextlib

from starlette.requests import Request
from starlette.routing import Match, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class _HeadersSent(Exception):
    """The GET's status and headers went out; the rest of its body is not wanted."""


class HeadAsGet:
    """ASGI middleware: run HEAD as GET and drop the body."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass everything but HEAD on unchanged."""
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def headers_only(message: Message) -> None:
            if message["type"] != "http.response.body":
                await send(message)
                return
            await send({"type": "http.response.body", "body": b"", "more_body": False})
            raise _HeadersSent

        with contextlib.suppress(_HeadersSent):
            await self.app({**scope, "method": "GET"}, receive, headers_only)


def allowed_methods(request: Request) -> str:
    """The `Allow` value of a 405: the methods of every route at the request's path.

    Starlette's 405 names only the methods of the first route that matched the path,
    while FastAPI makes one route per method; RFC 9110 wants them all.
    """
    methods: set[str] = set()
    for route in request.app.router.routes:
        if isinstance(route, Route) and route.methods:
            match, _ = route.matches({**request.scope, "method": next(iter(route.methods))})
            if match != Match.NONE:
                methods |= route.methods
    if "GET" in methods:
        methods.add("HEAD")
    return ", ".join(sorted(methods))
