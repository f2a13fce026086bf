"""RFC 9457 problem+json: the single place where errors become HTTP responses."""

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError

from controlplane.contract.problemjson import install as install_problems
from controlplane.contract.problemjson import problem_response
from controlplane.server.agentclient import AgentError, AgentUnavailable
from controlplane.server.db import is_duplicate
from controlplane.server.services.errors import DomainError


async def _agent(_request: Request, exc: Exception) -> JSONResponse:
    # An agent call made on the request's behalf failed (services translate the cases
    # where a field is at fault; what reaches here is the host's problem).
    if isinstance(exc, AgentUnavailable):
        return problem_response(503, "Agent unavailable", str(exc))
    return problem_response(502, "Agent error", str(exc))


async def _integrity(_request: Request, exc: Exception) -> JSONResponse:
    # The services check names, subnets and ports first; a unique constraint that still
    # fires means a concurrent request won the race. Any other integrity error (a
    # foreign key, a NOT NULL) is a bug: raised on, it is logged and answered as a 500.
    assert isinstance(exc, IntegrityError)
    if not is_duplicate(exc):
        raise exc
    return problem_response(
        409, "Conflict", "conflicts with a concurrent change; retry the request"
    )


async def _internal(_request: Request, exc: Exception) -> JSONResponse:
    # Still logged by the server as an error; the body says no more than that.
    return problem_response(500, "Internal server error", f"unexpected {type(exc).__name__}")


def install(app: FastAPI) -> None:
    """Render domain, agent, validation, routing and unexpected errors as problem+json."""
    install_problems(app, DomainError)
    app.add_exception_handler(AgentUnavailable, _agent)
    app.add_exception_handler(AgentError, _agent)
    app.add_exception_handler(IntegrityError, _integrity)
    app.add_exception_handler(Exception, _internal)
