"""The routes every kind of Docker object the agent manages shares: list, get, delete.

Containers and networks differ in how they are ensured; listing weft's objects
by label, reading one by name and deleting one idempotently are the same verbs.
"""

from collections.abc import Callable
from typing import Annotated, TypeVar

import docker
from fastapi import APIRouter, Path, Response
from pydantic import BaseModel

from controlplane.agent.api.deps import Engine, LabelFilters, blocking
from controlplane.contract.schemas import NAME_PATTERN

S = TypeVar("S", bound=BaseModel)

# A Docker object's name in a route's path.
ObjectName = Annotated[str, Path(pattern=NAME_PATTERN)]


def add_object_routes(
    router: APIRouter,
    kind: str,
    state: type[S],
    lister: Callable[[docker.DockerClient, list[str]], list[S]],
    getter: Callable[[docker.DockerClient, str], S],
    deleter: Callable[[docker.DockerClient, str], None],
    delete_note: str = "",
) -> None:
    """Add GET "", GET /{name} and DELETE /{name} for one kind of object to `router`."""

    async def list_objects(engine: Engine, label: LabelFilters) -> list[S]:
        return await blocking(lister, engine, label)

    async def get_object(name: ObjectName, engine: Engine) -> S:
        return await blocking(getter, engine, name)

    async def delete_object(name: ObjectName, engine: Engine) -> Response:
        await blocking(deleter, engine, name)
        return Response(status_code=204)

    router.add_api_route(
        "",
        list_objects,
        methods=["GET"],
        response_model=list[state],  # type: ignore[valid-type]
        name=f"list_{kind}s",
        summary=f"List {kind}s",
        description=f"The {kind}s weft manages on this host (label weft.managed=true).",
    )
    router.add_api_route(
        "/{name}",
        get_object,
        methods=["GET"],
        response_model=state,
        name=f"get_{kind}",
        summary=f"Get {kind}",
        description=f"One weft {kind} by name (404 when absent).",
    )
    router.add_api_route(
        "/{name}",
        delete_object,
        methods=["DELETE"],
        status_code=204,
        name=f"delete_{kind}",
        summary=f"Delete {kind}",
        description=f"Remove the {kind}; 204 also when it is absent{delete_note}.",
    )
