"""A small asyncmy connection pool that never reuses a connection in doubt.

asyncmy's own pool returned connections to the pool after a cancelled query,
so the next request could read the previous one's rows (asyncmy #100/#103).
Here a connection goes back to the pool only when the work on it finished
normally; on any exception -- a cancellation (client gone, timeout) included --
it is closed. Acquiring waits at most `pool_acquire_timeout` (PoolExhausted),
idle connections older than `pool_recycle` are replaced, and a failure on a
reused connection (server restarted) is retried once on a fresh one.
"""

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from asyncmy import errors as myerrors

from searchapi.dbconnect import connect
from searchapi.errors import DatabaseUnavailable, NotLoaded, PoolExhausted
from searchapi.settings import Settings

T = TypeVar("T")
Row = tuple[Any, ...]

# Errors that mean "the server or the connection is gone", not "the SQL is wrong".
_UNAVAILABLE = (myerrors.OperationalError, myerrors.InterfaceError, OSError, TimeoutError)
_NO_SUCH_TABLE = 1146  # before the first load, or a database without the world schema


@dataclass
class _Conn:
    raw: Any
    created: float = field(default_factory=time.monotonic)


class Pool:
    """At most `settings.pool_size` connections to the world database."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._idle: list[_Conn] = []
        self._slots = asyncio.Semaphore(settings.pool_size)
        self.size = settings.pool_size
        self.in_use = 0

    @property
    def open(self) -> int:
        """Connections open now (idle plus in use)."""
        return len(self._idle) + self.in_use

    async def _connect(self) -> _Conn:
        s = self._settings
        raw = await connect(
            s.endpoint,
            autocommit=True,
            # The server stops a runaway statement even if this process is stuck.
            session=f"SET SESSION max_statement_time = {float(s.query_timeout)}",
        )
        return _Conn(raw)

    def _take_idle(self) -> _Conn | None:
        now = time.monotonic()
        while self._idle:
            conn = self._idle.pop()
            if now - conn.created < self._settings.pool_recycle:
                return conn
            conn.raw.close()
        return None

    def clear(self) -> None:
        """Close every idle connection (after the server went away, they are all dead)."""
        while self._idle:
            self._idle.pop().raw.close()

    async def run(self, work: Callable[[Any], Awaitable[T]]) -> T:
        """Run `work(connection)` on a pooled connection, within the query timeout."""
        s = self._settings
        try:
            async with asyncio.timeout(s.pool_acquire_timeout):
                await self._slots.acquire()
        except TimeoutError:
            raise PoolExhausted(
                f"no database connection became free within {s.pool_acquire_timeout:g} s"
            ) from None
        self.in_use += 1
        try:
            async with asyncio.timeout(s.query_timeout):
                reused = self._take_idle()
                if reused is not None:
                    try:
                        return await self._use(reused, work)
                    except _UNAVAILABLE:
                        # A reused connection may have died with its server; the
                        # work is read-only, so one retry on a fresh one is safe.
                        self.clear()
                return await self._use(await self._connect(), work)
        except _UNAVAILABLE as exc:
            self.clear()
            raise DatabaseUnavailable(f"the world database is unavailable: {exc}") from exc
        except myerrors.ProgrammingError as exc:
            if exc.args and exc.args[0] == _NO_SUCH_TABLE:
                raise NotLoaded("the world database holds no data yet") from exc
            raise
        finally:
            self.in_use -= 1
            self._slots.release()

    async def _use(self, conn: _Conn, work: Callable[[Any], Awaitable[T]]) -> T:
        try:
            result = await work(conn.raw)
        except BaseException:
            conn.raw.close()  # in doubt (cancelled mid-read, error): never hand it out again
            raise
        self._idle.append(conn)
        return result

    async def fetch(self, sql: str, args: Sequence[Any] = ()) -> list[Row]:
        """All rows of one statement."""
        return await self.run(lambda conn: fetchall(conn, sql, args))

    async def close(self) -> None:
        """Close the idle connections (those in use close when their work ends)."""
        self.clear()


async def fetchall(conn: Any, sql: str, args: Sequence[Any] = ()) -> list[Row]:
    """All rows of one statement on `conn`."""
    async with conn.cursor() as cur:
        await cur.execute(sql, tuple(args) if args else None)
        return list(await cur.fetchall())
