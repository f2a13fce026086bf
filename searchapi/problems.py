"""problem+json (RFC 9457) rendering: the one place errors become HTTP responses."""

import json
import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from searchapi.errors import InvalidParameter, SearchError

PROBLEM = "application/problem+json"
log = logging.getLogger("searchapi")


def problem(
    status: int, title: str, detail: str, errors: list[dict[str, Any]] | None = None
) -> Response:
    """A problem+json response."""
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": title,
        "status": status,
        "detail": detail,
    }
    if errors is not None:
        body["errors"] = errors
    headers = {"Retry-After": "1"} if status == 503 else None
    return Response(json.dumps(body), status_code=status, media_type=PROBLEM, headers=headers)


async def _search_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, SearchError)
    errors = None
    if isinstance(exc, InvalidParameter):
        errors = [{"loc": list(exc.loc), "msg": exc.detail}]
    return problem(exc.status, exc.title, exc.detail, errors)


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = [{"loc": [str(p) for p in e["loc"]], "msg": e["msg"]} for e in exc.errors()]
    names = ", ".join(dict.fromkeys(str(e["loc"][-1]) for e in exc.errors() if e["loc"]))
    return problem(422, "Invalid parameters", f"invalid parameter(s): {names}", errors)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    return problem(exc.status_code, str(exc.detail), f"{request.method} {request.url.path}")


async def _unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s", request.url.path, exc_info=exc)
    return problem(500, "Internal error", "unexpected error; see the server log")


def install(app: FastAPI) -> None:
    """Render every error the app raises as problem+json."""
    app.add_exception_handler(SearchError, _search_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
