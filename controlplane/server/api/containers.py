"""/containers: one container on one host."""

from typing import Annotated

from fastapi import APIRouter, Query, Response, status
from fastapi.responses import PlainTextResponse

from controlplane.contract.bounds import MAX_LOG_TAIL, ParamId
from controlplane.server.api.deps import Caller, RuntimeDep, SessionDep
from controlplane.server.models import ContainerCreate, ContainerPublic, ContainerUpdate
from controlplane.server.services import containers as svc

router = APIRouter(prefix="/containers", tags=["containers"])


@router.get("", response_model=list[ContainerPublic])
async def list_containers(
    session: SessionDep, _: Caller, host_id: ParamId | None = None
) -> list[ContainerPublic]:
    """Containers with their observed state (created/running/healthy/exited, exit code)."""
    return [ContainerPublic.of(c) for c in await svc.list_containers(session, host_id)]


@router.post("", response_model=ContainerPublic, status_code=status.HTTP_201_CREATED)
async def create_container(
    data: ContainerCreate, session: SessionDep, rt: RuntimeDep, _: Caller, wait: bool = False
) -> ContainerPublic:
    """Record a container; the host's reconciler creates and starts it.

    409 when a published host port/protocol is taken on the host (same or wildcard
    host_ip), or a fixed address is taken; 422 when a network is not on the host or a
    fixed address is outside its subnet. `wait=true`: answer once converged or failed.
    """
    return ContainerPublic.of(await svc.create_container(session, rt, data, wait))


@router.get("/{container_id}", response_model=ContainerPublic)
async def get_container(container_id: ParamId, session: SessionDep, _: Caller) -> ContainerPublic:
    """One container."""
    return ContainerPublic.of(await svc.get_container(session, container_id))


@router.patch("/{container_id}", response_model=ContainerPublic)
async def update_container(
    container_id: ParamId,
    data: ContainerUpdate,
    session: SessionDep,
    rt: RuntimeDep,
    _: Caller,
    wait: bool = False,
) -> ContainerPublic:
    """Change the spec; the container is recreated when its spec hash changes."""
    return ContainerPublic.of(await svc.update_container(session, rt, container_id, data, wait))


@router.post(
    "/{container_id}/restart", response_model=ContainerPublic, status_code=status.HTTP_202_ACCEPTED
)
async def restart_container(
    container_id: ParamId, session: SessionDep, rt: RuntimeDep, _: Caller, wait: bool = False
) -> ContainerPublic:
    """Restart the container in place (`docker restart`: same container, same spec).

    Links from other containers follow it if it comes back with a new address;
    its own links are re-applied to its /etc/hosts.
    """
    return ContainerPublic.of(await svc.restart_container(session, rt, container_id, wait))


@router.get("/{container_id}/logs", response_class=PlainTextResponse)
async def container_logs(
    container_id: ParamId,
    session: SessionDep,
    rt: RuntimeDep,
    _: Caller,
    tail: Annotated[int, Query(ge=0, le=MAX_LOG_TAIL)] = 100,
) -> str:
    """The container's last `tail` log lines, from the agent."""
    return await svc.container_logs(session, rt, container_id, tail)


@router.delete("/{container_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_container(
    container_id: ParamId, session: SessionDep, rt: RuntimeDep, _: Caller, wait: bool = False
) -> Response:
    """Forget a container and its links; the reconciler removes it from the host."""
    await svc.delete_container(session, rt, container_id, wait)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
