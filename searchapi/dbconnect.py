"""The one place an asyncmy connection to the world database is opened.

The pool (serving), the index snapshot (reading the tables into memory) and
the loader (writing them) all connect here, so charset, time-outs and session
settings are decided once.
"""

from dataclasses import dataclass
from typing import Any

import asyncmy


@dataclass(frozen=True)
class Endpoint:
    """Where the world database is and who connects."""

    host: str = "127.0.0.1"
    port: int = 3306
    user: str = "world"
    password: str = ""
    database: str | None = "world"  # None: no default database
    unix_socket: str | None = None
    connect_timeout: float = 10.0


async def connect(endpoint: Endpoint, *, autocommit: bool, session: str | None = None) -> Any:
    """An asyncmy connection (utf8mb4); `session` is run first (an init command)."""
    return await asyncmy.connect(
        host=endpoint.host,
        port=endpoint.port,
        user=endpoint.user,
        password=endpoint.password,
        database=endpoint.database,
        unix_socket=endpoint.unix_socket,
        charset="utf8mb4",
        autocommit=autocommit,
        connect_timeout=endpoint.connect_timeout,
        init_command=session,
    )
