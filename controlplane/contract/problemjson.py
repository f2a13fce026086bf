"""RFC 9457 problem+json responses, built the same way by the API and the agent.

Each side keeps its own exception handlers (its own error tree); this module only
shapes the response, so the agent shares it without importing control-plane services.
"""

from collections.abc import Mapping
from typing import Any

from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

PROBLEM = "application/problem+json"


def problem_response(
    status: int,
    title: str,
    detail: str | None,
    errors: list[dict[str, Any]] | None = None,
    type_: str = "about:blank",
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    """A problem+json response; `errors` is left out when None; 401 asks for a Bearer token.

    `headers` are kept (a 405's `Allow`, which RFC 9110 requires).
    """
    body: dict[str, Any] = {"type": type_, "title": title, "status": status, "detail": detail}
    if errors is not None:
        body["errors"] = errors
    extra = dict(headers or {})
    if status == 401:
        extra["WWW-Authenticate"] = "Bearer"
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=extra or None)


def invalid_fields(exc: RequestValidationError) -> tuple[str, list[dict[str, Any]]]:
    """A request validation error as (detail naming the fields, `errors` with loc and msg)."""
    errors = [{"loc": list(e["loc"]), "msg": e["msg"]} for e in exc.errors()]
    where = ", ".join(".".join(str(p) for p in e["loc"]) for e in errors)
    return f"invalid: {where}", errors
