"""The OpenAPI description says what the API really answers (issue 8, item 9).

FastAPI documents a route's success answer and a 422 as `application/json`; the
apps answer every error as `application/problem+json` (one handler each), and a
GET also answers HEAD. This module rewrites the generated description once, so a
client generated from it (or a fuzzer checking answers against it) sees each error
status an operation can give, with its real media type and body schema.
"""

from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel

from controlplane.contract.problemjson import PROBLEM
from controlplane.contract.schemas import Problem

_REF = "#/components/schemas/{model}"
_PROBLEM_REF = {"$ref": _REF.format(model="Problem")}


def problem_answers(statuses: Mapping[int, str]) -> dict[str, Any]:
    """OpenAPI `responses` entries for these statuses, each a problem+json body."""
    return {
        str(status): {"description": why, "content": {PROBLEM: {"schema": _PROBLEM_REF}}}
        for status, why in statuses.items()
    }


def _with_errors(operation: dict[str, Any], errors: dict[str, Any]) -> None:
    answers: dict[str, Any] = operation.setdefault("responses", {})
    for status, entry in errors.items():
        described = answers.get(status, {}).get("description") or entry["description"]
        answers[status] = {**entry, "description": described}


def _head_of(get: dict[str, Any]) -> dict[str, Any]:
    """The HEAD twin of a GET: same parameters, the same answers without bodies."""
    head = {k: v for k, v in get.items() if k != "responses"}
    head["operationId"] = f"{get.get('operationId', 'get')}_head"
    head["summary"] = f"{get.get('summary', '')} (headers only)".strip()
    head["responses"] = {
        status: {"description": entry.get("description", "")}
        for status, entry in get.get("responses", {}).items()
    }
    return head


def _streams(operation: dict[str, Any]) -> bool:
    ok = operation.get("responses", {}).get("200", {})
    return "text/event-stream" in ok.get("content", {})


def document_errors(
    app: FastAPI, statuses: Mapping[int, str], models: Sequence[type[BaseModel]] = ()
) -> None:
    """Make `app.openapi()` list `statuses` as problem+json on every operation, and HEAD.

    `models` are put in the components too: bodies a route reads itself (described
    with `openapi_extra`) refer to them there.
    """
    errors = problem_answers(statuses)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        described_models: list[type[BaseModel]] = [Problem, *models]
        for model in described_models:
            described = model.model_json_schema(ref_template=_REF)
            components.update(described.pop("$defs", {}))
            components[model.__name__] = described
        for path_item in schema.get("paths", {}).values():
            for operation in path_item.values():
                _with_errors(operation, errors)
            get = path_item.get("get")
            if get is not None and "head" not in path_item and not _streams(get):
                path_item["head"] = _head_of(get)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
