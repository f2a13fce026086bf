"""/stacks: whole applications from compose files (`docker stack deploy`, Portainer stacks)."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response, status
from fastapi.responses import StreamingResponse
from pydantic import ValidationError

from controlplane.contract.bounds import MAX_ID
from controlplane.server.api.deps import Caller, RuntimeDep, SessionDep
from controlplane.server.api.events import SSE_ROUTE, event_stream
from controlplane.server.models import StackCreate, StackPublic
from controlplane.server.services import events as events_svc
from controlplane.server.services import stacks as svc
from controlplane.server.services.errors import Invalid, TooLarge
from controlplane.stacks.yamlsafe import MAX_BYTES

router = APIRouter(prefix="/stacks", tags=["stacks"])

YAML_TYPES = ("application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml")
BODY_DOC = {
    "requestBody": {
        "required": True,
        "content": {
            # Inline: the body is parsed by hand, so FastAPI puts no StackCreate in the
            # components, and a $ref to it broke /redoc ("Invalid reference token").
            "application/json": {"schema": StackCreate.model_json_schema()},
            "application/yaml": {
                "schema": {"type": "string", "description": "The compose file itself."}
            },
        },
    }
}


async def stack_body(request: Request, _: Caller) -> StackCreate:
    """The request body: StackCreate as JSON, or the compose file itself as YAML.

    Only for an authorised caller: the body is read and parsed after the token check.
    """
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BYTES:
            raise TooLarge(f"the body is larger than {MAX_BYTES} bytes", loc=["body"])
    kind = request.headers.get("content-type", "application/json").split(";")[0].strip()
    if kind in YAML_TYPES:
        return StackCreate(compose=body.decode("utf-8", errors="replace"))
    try:
        return StackCreate.model_validate_json(bytes(body))
    except ValidationError as exc:
        first = exc.errors()[0]
        raise Invalid(first["msg"], loc=["body", *first["loc"]]) from None


async def named_stack_body(
    data: Annotated[StackCreate, Depends(stack_body)],
    name: Annotated[
        str | None,
        Query(pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$", description="The stack's name."),
    ] = None,
) -> StackCreate:
    """POST's body, with `?name=` (for a YAML body) overriding the file's `name`."""
    return data if name is None else data.model_copy(update={"name": name})


Body = Annotated[StackCreate, Depends(stack_body)]
NamedBody = Annotated[StackCreate, Depends(named_stack_body)]


@router.get("", response_model=list[StackPublic])
async def list_stacks(session: SessionDep, _: Caller) -> list[StackPublic]:
    """Stacks, each with its services' desired and running replicas."""
    return await svc.list_stacks(session)


@router.post(
    "",
    response_model=StackPublic,
    status_code=status.HTTP_202_ACCEPTED,
    openapi_extra=BODY_DOC,
    responses={
        409: {"description": "No ready host fits a placement, or a port is taken."},
        413: {"description": "The file is too large, or expands to too much."},
    },
)
async def create_stack(
    data: NamedBody,
    session: SessionDep,
    rt: RuntimeDep,
    _: Caller,
    response: Response,
    wait: bool = False,
) -> StackPublic:
    """Deploy a compose file: answers at once (202) with where to follow it.

    Every key is checked against the Compose Specification's schema, then against
    what weft supports; a problem is a 422 naming its path in the file, and nothing
    is written. Follow the deploy at `/stacks/{name}/events` (SSE), or pass
    `wait=true` to answer once it converged or failed.
    """
    stack = await svc.create_stack(session, rt, data, wait)
    response.headers["Location"] = f"/stacks/{stack.name}"
    response.headers["Link"] = f'</stacks/{stack.name}/events>; rel="monitor"'
    return stack


@router.get("/{name}", response_model=StackPublic)
async def get_stack(name: str, session: SessionDep, _: Caller) -> StackPublic:
    """One stack: per service, desired and running replicas, hosts, state, last error."""
    return await svc.show_stack(session, name)


@router.put(
    "/{name}",
    response_model=StackPublic,
    status_code=status.HTTP_202_ACCEPTED,
    openapi_extra=BODY_DOC,
)
async def update_stack(
    name: str, data: Body, session: SessionDep, rt: RuntimeDep, _: Caller, wait: bool = False
) -> StackPublic:
    """Replace the stack's file: only services whose containers change are recreated."""
    return await svc.update_stack(session, rt, name, data, wait)


@router.delete("/{name}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_stack(
    name: str,
    session: SessionDep,
    rt: RuntimeDep,
    _: Caller,
    volumes: bool = Query(False, description="Also remove the stack's named volumes."),
    wait: bool = False,
) -> Response:
    """Remove the stack's containers, networks and links (and volumes with volumes=true)."""
    await svc.delete_stack(session, rt, name, volumes, wait)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{name}/events", **SSE_ROUTE)
async def stack_events(
    name: str,
    session: SessionDep,
    rt: RuntimeDep,
    _: Caller,
    after: int | None = Query(
        None, ge=0, le=MAX_ID, description="Replay stored events after this id first."
    ),
) -> StreamingResponse:
    """Server-Sent Events of this stack's deploys, updates and removal, as they happen."""
    stack = await svc.get_stack(session, name)
    filters = events_svc.EventFilter("stack", stack.id, None, None, None)
    return event_stream(rt, filters, after)
