"""Open-loop load at a fixed rate: latency as a client sees it, queueing included.

The failure this exists to prevent: a latency figure from a closed loop (wrk,
whose connections each wait for an answer before the next request), where a
slow answer holds back the requests behind it and so hides the wait they would
have met (coordinated omission). Here request i is due at start + i / rate
(evenly spaced; with `poisson`, exponential gaps of the same mean) whatever
happened before it. It goes out on an idle keep-alive connection (a new one
when all are busy), and its latency runs from when it was due -- not from when
it went out -- to the last byte of its answer. A request that fails, answers
other than 200 or is not answered within `timeout` of the last one's due time
counts in every percentile as infinitely slow.
"""

import asyncio
import collections
import contextlib
import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

import uvloop

_CONNECTIONS = 16  # opened before the first request (more when all are busy)


@dataclass(frozen=True)
class Result:
    """One run: latencies (s, sorted, failures as inf), failures, duration and lateness."""

    latencies: list[float]
    errors: int
    seconds: float  # from the first request's due time to the last answer
    late_p99: float  # the generator's own lateness in sending (s): the p99 of it
    cpu_us: float = 0.0  # the generator's own CPU per request (µs)

    def percentile(self, p: float) -> float:
        """The p-th percentile latency (s) over every request, failures included."""
        return self.latencies[
            min(len(self.latencies) - 1, math.ceil(p / 100 * len(self.latencies)) - 1)
        ]


def run(
    host: str,
    port: int,
    paths: list[str],
    rate: float,
    seconds: float,
    poisson: bool = False,
    timeout: float = 10.0,
    seed: int = 7,
) -> Result:
    """Send GET `paths` (in turn) at `rate` per second for `seconds` and time every answer."""
    started = time.process_time()
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        r = runner.run(_run(host, port, paths, rate, seconds, poisson, timeout, seed))
    cpu_us = (time.process_time() - started) * 1e6 / len(r.latencies)
    return Result(r.latencies, r.errors, r.seconds, r.late_p99, cpu_us)


async def _run(
    host: str,
    port: int,
    paths: list[str],
    rate: float,
    seconds: float,
    poisson: bool,
    timeout: float,
    seed: int,
) -> Result:
    loop = asyncio.get_running_loop()
    n = max(1, round(rate * seconds))
    rnd = random.Random(seed)
    requests = [f"GET {p} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode() for p in paths]
    latencies = [math.inf] * n
    late = [0.0] * n
    left = [n]
    finished = loop.create_future()
    idle: collections.deque[_Connection] = collections.deque()  # (in turn: none idles long)

    def answered(conn: _Connection, i: int, due: float, status: int | None) -> None:
        if status == 200:
            latencies[i] = time.perf_counter() - due
        if status is not None:
            idle.append(conn)
        left[0] -= 1
        if left[0] == 0 and not finished.done():
            finished.set_result(None)

    async def connect() -> "_Connection":
        _, conn = await loop.create_connection(lambda: _Connection(answered), host, port)
        return conn

    def send(i: int, due: float) -> None:
        early = due - time.perf_counter()
        if early > 0:  # (uvloop's timers may fire up to a millisecond early: never send early)
            time.sleep(early)
        late[i] = time.perf_counter() - due
        request = requests[i % len(requests)]
        while idle:
            conn = idle.popleft()
            if conn.open:  # (one the server closed is dropped)
                conn.ask(request, i, due)
                return
        # (all busy: one more, as a client would)
        task = loop.create_task(connect())
        task.add_done_callback(lambda t: _ask_or_fail(t, request, i, due, answered))

    idle.extend([await connect() for _ in range(_CONNECTIONS)])
    # Due times on the precise clock (uvloop's own counts milliseconds), timers on the loop's.
    first = due = time.perf_counter() + 0.05
    lag = loop.time() - time.perf_counter()
    for i in range(n):  # (each due at its time, whatever the answers before it did)
        loop.call_at(due + lag, send, i, due)
        due += rnd.expovariate(rate) if poisson else 1 / rate
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(finished, due - time.perf_counter() + timeout)
    ended = time.perf_counter()
    for conn in idle:
        conn.close()
    late.sort()
    return Result(
        latencies=sorted(latencies),
        errors=sum(1 for x in latencies if x == math.inf),
        seconds=ended - first,
        late_p99=late[min(n - 1, math.ceil(0.99 * n) - 1)],
    )


Done = Callable[["_Connection", int, float, int | None], None]


def _ask_or_fail(
    task: "asyncio.Task[_Connection]", request: bytes, i: int, due: float, done: Done
) -> None:
    if task.cancelled() or task.exception() is not None:
        return  # (never answered: it stays infinitely slow)
    task.result().ask(request, i, due)


class _Connection(asyncio.Protocol):
    """One keep-alive connection, one request at a time, answers with a Content-Length."""

    def __init__(self, done: Done) -> None:
        self._done = done
        self._transport: asyncio.Transport | None = None
        self._buf = bytearray()
        self._asked: tuple[int, float] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)  # (uvloop's is not a subclass)

    @property
    def open(self) -> bool:
        """Whether requests can still go out on it."""
        return self._transport is not None and not self._transport.is_closing()

    def ask(self, request: bytes, i: int, due: float) -> None:
        """Send `request` (number i, due at `due`)."""
        assert self._transport is not None
        self._asked = (i, due)
        self._transport.write(request)

    def data_received(self, data: bytes) -> None:
        self._buf += data
        end = self._buf.find(b"\r\n\r\n")
        if end < 0 or self._asked is None:
            return
        head = bytes(self._buf[:end]).lower()
        at = head.find(b"\r\ncontent-length:")
        if at < 0:
            self._fail()
            return
        length = int(head[at + 17 :].split(b"\r\n", 1)[0])
        if len(self._buf) < end + 4 + length:
            return
        status = int(head[9:12])
        del self._buf[: end + 4 + length]
        i, due = self._asked
        self._asked = None
        self._done(self, i, due, status)

    def connection_lost(self, exc: Exception | None) -> None:
        self._fail()

    def _fail(self) -> None:
        if self._asked is not None:
            i, due = self._asked
            self._asked = None
            self._done(self, i, due, None)
        self.close()

    def close(self) -> None:
        """Close the connection."""
        if self._transport is not None and not self._transport.is_closing():
            self._transport.close()
