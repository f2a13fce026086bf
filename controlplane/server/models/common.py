"""Shared pieces of the API schemas: names, timestamps, statuses."""

from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import StringConstraints

# Docker's own rule for container and network names.
NAME_PATTERN = r"^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$"
Name = Annotated[str, StringConstraints(pattern=NAME_PATTERN)]

# pending: desired state recorded, not yet converged; converged: the host matches it;
# failed: the last attempt failed (status_reason says why; retried with backoff).
ResourceStatus = Literal["pending", "converged", "failed"]
HostStatus = Literal["ready", "unreachable"]


def utcnow() -> datetime:
    """Now, timezone-aware UTC."""
    return datetime.now(UTC)
