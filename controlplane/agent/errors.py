"""The agent's exception tree and the one handler that renders it as problem+json.

The Docker layer (`driver.engine.translate`) turns docker SDK errors into these;
routes never build error responses themselves.
"""

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from controlplane.contract.headget import allowed_methods
from controlplane.contract.problemjson import invalid_fields, problem_response


class AgentFailure(Exception):
    """Base of the agent's errors; `status`, `title`, `type` shape the problem+json."""

    status = 500
    title = "Agent error"
    type = "about:blank"

    def __init__(self, detail: str, loc: list[str | int] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.loc = loc


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


def problem(
    status: int,
    title: str,
    detail: str | None,
    errors: list[dict[str, Any]] | None = None,
    type_: str = "about:blank",
) -> JSONResponse:
    """A problem+json response (RFC 9457); `errors` always present, [] when none."""
    return problem_response(status, title, detail, errors or [], type_)


async def _failure(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AgentFailure)
    errors = [{"loc": exc.loc, "msg": exc.detail}] if exc.loc is not None else None
    return problem(exc.status, exc.title, exc.detail, errors, exc.type)


async def _validation(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    detail, errors = invalid_fields(exc)
    return problem(422, "Invalid request", detail, errors)


async def _http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    detail = str(exc.detail)
    headers = exc.headers
    if exc.status_code == 405:
        headers = {**(headers or {}), "Allow": allowed_methods(request)}
    return problem_response(exc.status_code, detail, detail, None, headers=headers)


def install(app: FastAPI) -> None:
    """Render agent failures, validation and routing errors as problem+json."""
    app.add_exception_handler(AgentFailure, _failure)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StarletteHTTPException, _http)
