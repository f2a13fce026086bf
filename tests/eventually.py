"""One way for tests to wait: poll a check under a deadline, never sleep and assume."""

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

import httpx

T = TypeVar("T")
# What a check may raise while the system is still getting there (retried, not fatal):
# a failed assertion, or a server that does not answer yet.
PENDING: tuple[type[BaseException], ...] = (AssertionError, OSError, httpx.HTTPError)


class _Deadline:
    """What both helpers share: the deadline, and the failure that names the last outcome."""

    def __init__(self, check: object, timeout: float) -> None:
        self.check, self.timeout = check, timeout
        self.at = time.monotonic() + timeout

    def missed(self, last: object) -> None:
        """Record a try that did not hold; fail once the deadline has passed."""
        if time.monotonic() > self.at:
            raise AssertionError(f"not true within {self.timeout}s: {self.check!r}; last: {last!r}")


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
    deadline = _Deadline(check, timeout)
    while True:
        try:
            value = check()
        except retry_on as exc:
            deadline.missed(exc)
        else:
            if value:
                return value
            deadline.missed(value)
        time.sleep(every)


async def eventually_async(
    check: Callable[[], Awaitable[T]],
    timeout: float = 30.0,
    every: float = 0.05,
    retry_on: tuple[type[BaseException], ...] = PENDING,
) -> T:
    """`eventually` for a coroutine check, without blocking the event loop."""
    deadline = _Deadline(check, timeout)
    while True:
        try:
            value = await check()
        except retry_on as exc:
            deadline.missed(exc)
        else:
            if value:
                return value
            deadline.missed(value)
        await asyncio.sleep(every)
