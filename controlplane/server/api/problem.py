"""RFC 9457 problem+json: the single place where errors become HTTP responses."""

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException

from controlplane.contract.headget import allowed_methods
from controlplane.contract.problemjson import invalid_fields, problem_response
from controlplane.server.agentclient import AgentError, AgentUnavailable
from controlplane.server.db import is_duplicate
from controlplane.server.services.errors import DomainError, Unauthenticated


def problem(
    status: int, title: str, detail: str, errors: list[dict[str, Any]] | None = None
) -> JSONResponse:
    """A problem+json response; `errors` only when there are some."""
    return problem_response(status, title, detail, errors or None)


async def _domain(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    errors = [{"loc": exc.loc, "msg": exc.detail}] if exc.loc is not None else None
    if exc.errors:
        errors = [{"loc": where, "msg": msg} for where, msg in exc.errors]
    if isinstance(exc, Unauthenticated):
        errors = None
    return problem(exc.status, exc.title, exc.detail, errors)


async def _validation(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    detail, errors = invalid_fields(exc)
    return problem(422, "Invalid request", detail, errors)


async def _agent(_request: Request, exc: Exception) -> JSONResponse:
    # An agent call made on the request's behalf failed (services translate the cases
    # where a field is at fault; what reaches here is the host's problem).
    if isinstance(exc, AgentUnavailable):
        return problem(503, "Agent unavailable", str(exc))
    return problem(502, "Agent error", str(exc))


async def _integrity(_request: Request, exc: Exception) -> JSONResponse:
    # The services check names, subnets and ports first; a unique constraint that still
    # fires means a concurrent request won the race. Any other integrity error (a
    # foreign key, a NOT NULL) is a bug: raised on, it is logged and answered as a 500.
    assert isinstance(exc, IntegrityError)
    if not is_duplicate(exc):
        raise exc
    return problem(409, "Conflict", "conflicts with a concurrent change; retry the request")


async def _internal(_request: Request, exc: Exception) -> JSONResponse:
    # Still logged by the server as an error; the body says no more than that.
    return problem(500, "Internal server error", f"unexpected {type(exc).__name__}")


async def _http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    detail = str(exc.detail)
    headers = exc.headers
    if exc.status_code == 405:
        headers = {**(headers or {}), "Allow": allowed_methods(request)}
    return problem_response(exc.status_code, detail, detail, None, headers=headers)


def install(app: FastAPI) -> None:
    """Render domain errors, validation errors and routing errors as problem+json."""
    app.add_exception_handler(DomainError, _domain)
    app.add_exception_handler(AgentUnavailable, _agent)
    app.add_exception_handler(AgentError, _agent)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(IntegrityError, _integrity)
    app.add_exception_handler(Exception, _internal)
