"""One ASGI middleware: request metrics, and cancelling work whose client has gone.

uvicorn keeps running a handler after its client disconnects; for a search
that means a pooled connection busy for nobody. This middleware watches the
request's receive channel and cancels the handler when the client leaves
before the response is complete. The pool closes a connection cancelled
mid-query (see pool.py), so no half-read result reaches the next request.
"""

import asyncio
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from searchapi.metrics import Metrics


class ServeMiddleware:
    """Metrics per route, and cancel-on-disconnect for GET/HEAD requests."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        state: dict[str, Any] = {"status": 500, "done": False, "gone": False}

        async def send_tracked(message: Message) -> None:
            if message["type"] == "http.response.start":
                state["status"] = message["status"]
            elif message["type"] == "http.response.body" and not message.get("more_body"):
                state["done"] = True
            await send(message)

        try:
            if scope["method"] in ("GET", "HEAD"):
                await self._cancel_on_disconnect(scope, receive, send_tracked, state)
            else:
                await self.app(scope, receive, send_tracked)
        finally:
            route = scope.get("route")
            path = getattr(route, "path", None) or "unmatched"
            status = 499 if state["gone"] else state["status"]
            self.metrics.observe(scope["method"], path, status, time.perf_counter() - started)

    async def _cancel_on_disconnect(
        self, scope: Scope, receive: Receive, send: Send, state: dict[str, Any]
    ) -> None:
        task = asyncio.current_task()
        assert task is not None
        first = await receive()  # a GET's (empty) body; replayed to the app below
        replayed = False

        async def receive_app() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return first
            return await receive()

        async def watch() -> None:
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    if not state["done"]:
                        state["gone"] = True
                        task.cancel()
                    return

        if first["type"] == "http.disconnect":
            state["gone"] = True
            return
        watcher = asyncio.get_running_loop().create_task(watch())
        try:
            await self.app(scope, receive_app, send)
        except asyncio.CancelledError:
            if not state["gone"]:
                raise
            task.uncancel()  # our own cancellation: the client is gone, nothing to send
        finally:
            watcher.cancel()
