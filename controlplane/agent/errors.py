"""The agent's exception tree and the one handler that renders it as problem+json.

The Docker layer (`driver.engine.translate`) turns docker SDK errors into these;
routes never build error responses themselves.
"""

from fastapi import FastAPI

from controlplane.contract.problemjson import ProblemException
from controlplane.contract.problemjson import install as install_problems


class AgentFailure(ProblemException):
    """Base of the agent's errors; `status`, `title`, `type` shape the problem+json."""

    status = 500
    title = "Agent error"


class Unauthenticated(AgentFailure):
    """Missing or wrong bearer token."""

    status = 401
    title = "Unauthenticated"


class NotPermitted(AgentFailure):
    """The request is well-formed but this host's policy refuses it (a host bind mount)."""

    status = 403
    title = "Not permitted"
    type = "urn:weft:problem:not-permitted"


class NotFound(AgentFailure):
    """The named object does not exist on this host."""

    status = 404
    title = "Not found"


class Conflict(AgentFailure):
    """The host's state conflicts with the request (in use, not weft's, name taken)."""

    status = 409
    title = "Conflict"


class ImageMissing(Conflict):
    """The container's image is not on this host; upload it with PUT /v1/images."""

    title = "Image missing"
    type = "urn:weft:problem:image-missing"


class Invalid(AgentFailure):
    """The engine rejected the request as invalid (bad tarball, bad option)."""

    status = 422
    title = "Invalid request"


class DriverError(AgentFailure):
    """The engine failed in a way the caller cannot fix."""

    status = 502
    title = "Docker engine error"


class EngineUnavailable(DriverError):
    """The Docker engine does not answer."""

    status = 503
    title = "Docker engine unavailable"


def install(app: FastAPI) -> None:
    """Render agent failures, validation and routing errors as problem+json."""
    install_problems(app, AgentFailure)
