"""ServeMiddleware: metrics per route, and cancelling a handler whose client has gone."""

import asyncio
from typing import Any

from starlette.types import Message

from searchapi.metrics import Metrics
from searchapi.middleware import ServeMiddleware


def _scope() -> dict[str, Any]:
    return {"type": "http", "method": "GET", "path": "/cities", "headers": []}


async def test_client_leaving_cancels_the_handler_and_counts_499() -> None:
    started, cancelled = asyncio.Event(), asyncio.Event()
    disconnect = asyncio.Event()

    async def app(scope: Any, receive: Any, send: Any) -> None:
        started.set()
        try:
            await asyncio.sleep(10)  # a query that would run on for nobody
        except asyncio.CancelledError:
            cancelled.set()
            raise

    messages = [{"type": "http.request", "body": b"", "more_body": False}]

    async def receive() -> dict[str, Any]:
        if messages:
            return messages.pop()
        await disconnect.wait()
        return {"type": "http.disconnect"}

    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    metrics = Metrics()
    task = asyncio.create_task(ServeMiddleware(app, metrics)(_scope(), receive, send))
    await started.wait()
    disconnect.set()
    await asyncio.wait_for(task, 2)  # returns normally: nothing left to answer
    assert cancelled.is_set() and sent == []
    assert b'status="499"' in metrics.render()


async def test_finished_responses_are_not_cancelled_and_are_counted() -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    messages = [{"type": "http.request", "body": b"", "more_body": False}]

    async def receive() -> dict[str, Any]:
        if messages:
            return messages.pop()
        await asyncio.sleep(0)
        return {"type": "http.disconnect"}  # what uvicorn says once the response is done

    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    metrics = Metrics()
    await ServeMiddleware(app, metrics)(_scope(), receive, send)
    assert [m["type"] for m in sent] == ["http.response.start", "http.response.body"]
    assert b'route="unmatched",status="200"' in metrics.render()


async def test_outside_cancellation_still_propagates() -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await asyncio.sleep(10)

    async def receive() -> dict[str, Any]:
        await asyncio.sleep(10)
        return {"type": "http.request", "body": b""}

    async def send(message: Message) -> None:
        pass

    messages = [{"type": "http.request", "body": b"", "more_body": False}]

    async def first_then_wait() -> dict[str, Any]:
        return messages.pop() if messages else await receive()

    task = asyncio.create_task(ServeMiddleware(app, Metrics())(_scope(), first_then_wait, send))
    await asyncio.sleep(0.05)
    task.cancel()  # e.g. server shutdown: not ours to swallow
    try:
        await task
    except asyncio.CancelledError:
        pass
    else:
        raise AssertionError("the cancellation was swallowed")
