"""RFC 9457 problem+json: the one shape every weft error answer has, and its handlers.

The control plane and the agent each raise their own error tree, both rooted in
`ProblemException`; `install` renders that root, request validation errors and
routing errors the same way on both sides. `errors` (the fields at fault) is left
out when there are none, by both sides alike; readers treat a missing list as empty.
"""

from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from controlplane.contract.headget import allowed_methods
from controlplane.contract.schemas import ProblemError

PROBLEM = "application/problem+json"


class ProblemException(Exception):
    """Base of the errors raised on purpose: `status`, `title`, `type` per class.

    `detail` says what went wrong; `loc`, when given, is the field or path at fault
    (pydantic style, e.g. ["body", "ports", 0]); `errors`, when given, are several
    faults at once (a compose file's problems), each with its path.
    """

    status = 500
    title = "Error"
    type = "about:blank"

    def __init__(
        self,
        detail: str,
        loc: Sequence[str | int] | None = None,
        *,
        errors: Sequence[tuple[Sequence[str | int], str]] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.loc = list(loc) if loc is not None else None
        self.faults = [ProblemError(loc=list(where), msg=msg) for where, msg in errors or ()]

    def problem_errors(self) -> list[ProblemError]:
        """The problem's `errors`: the faults given, else the field at fault (none without)."""
        if self.faults:
            return self.faults
        return [ProblemError(loc=self.loc, msg=self.detail)] if self.loc is not None else []


def problem_response(
    status: int,
    title: str,
    detail: str | None,
    errors: Sequence[ProblemError] = (),
    type_: str = "about:blank",
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    """A problem+json response; `errors` only when there are some; 401 asks for a Bearer token.

    `headers` are kept (a 405's `Allow`, which RFC 9110 requires).
    """
    body: dict[str, Any] = {"type": type_, "title": title, "status": status, "detail": detail}
    if errors:
        body["errors"] = [e.model_dump(mode="json") for e in errors]
    extra = dict(headers or {})
    if status == 401:
        extra["WWW-Authenticate"] = "Bearer"
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=extra or None)


def invalid_fields(exc: RequestValidationError) -> tuple[str, list[ProblemError]]:
    """A request validation error as (detail naming the fields, `errors` with loc and msg)."""
    errors = [ProblemError(loc=list(e["loc"]), msg=e["msg"]) for e in exc.errors()]
    where = ", ".join(".".join(str(p) for p in e.loc) for e in errors)
    return f"invalid: {where}", errors


async def _raised(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ProblemException)
    return problem_response(exc.status, exc.title, exc.detail, exc.problem_errors(), exc.type)


async def _validation(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    detail, errors = invalid_fields(exc)
    return problem_response(422, "Invalid request", detail, errors)


async def _routing(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    headers = exc.headers
    if exc.status_code == 405:
        headers = {**(headers or {}), "Allow": allowed_methods(request)}
    detail = str(exc.detail)
    return problem_response(exc.status_code, detail, detail, headers=headers)


def install(app: FastAPI, raised: type[ProblemException]) -> None:
    """Render `raised` (a side's error tree), validation and routing errors as problem+json."""
    app.add_exception_handler(raised, _raised)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StarletteHTTPException, _routing)
