"""Bearer-token authentication: the token comes from a file, compared in constant time."""

import hmac
from pathlib import Path

from fastapi import Request

from controlplane.agent.errors import Unauthenticated


def read_token(path: Path) -> str:
    """The token in `path` (surrounding whitespace stripped); refuses an empty file."""
    token = path.read_text().strip()
    if not token:
        raise ValueError(f"token file {path} is empty")
    return token


def check_bearer(header: str | None, token: str) -> None:
    """Raise `Unauthenticated` unless `header` is `Bearer <token>`."""
    if not header:
        raise Unauthenticated("missing bearer token")
    scheme, _, given = header.partition(" ")
    if scheme.lower() != "bearer" or not given:
        raise Unauthenticated("expected an Authorization: Bearer header")
    # Compare bytes so non-ASCII input cannot raise, in constant time.
    if not hmac.compare_digest(given.strip().encode(), token.encode()):
        raise Unauthenticated("wrong bearer token")


async def require_token(request: Request) -> None:
    """Dependency: the request carries the agent's bearer token."""
    check_bearer(request.headers.get("authorization"), request.app.state.token)
