"""One way for tests to wait: poll a check under a deadline, never sleep and assume."""

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")
# What a check may raise while the system is still getting there (retried, not fatal).
PENDING: tuple[type[BaseException], ...] = (AssertionError, OSError, ConnectionError)


def eventually(
    check: Callable[[], T],
    timeout: float = 30.0,
    every: float = 0.05,
    retry_on: tuple[type[BaseException], ...] = PENDING,
) -> T:
    """check()'s first truthy value; retried while falsy or raising `retry_on`.

    After `timeout` seconds it fails with the last value or error, so a test says
    what it was waiting for instead of hanging or passing on luck.
    """
    deadline = time.monotonic() + timeout
    while True:
        last: object
        try:
            value = check()
            if value:
                return value
            last = value
        except retry_on as exc:
            last = exc
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {timeout}s: {check!r}; last: {last!r}")
        time.sleep(every)


async def eventually_async(
    check: Callable[[], Awaitable[T]],
    timeout: float = 30.0,
    every: float = 0.05,
    retry_on: tuple[type[BaseException], ...] = PENDING,
) -> T:
    """`eventually` for a coroutine check, without blocking the event loop."""
    deadline = time.monotonic() + timeout
    while True:
        last: object
        try:
            value = await check()
            if value:
                return value
            last = value
        except retry_on as exc:
            last = exc
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {timeout}s: {check!r}; last: {last!r}")
        await asyncio.sleep(every)
