"""Containers: ensure by spec hash, list, get, delete, restart, logs, links."""

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from controlplane.agent.api.deps import Engine, LabelFilters, Settings, blocking
from controlplane.agent.driver import containers as driver
from controlplane.agent.driver import links
from controlplane.agent.policy import check_spec
from controlplane.contract.schemas import (
    NAME_PATTERN,
    ContainerEnsureResult,
    ContainerSpec,
    ContainerState,
    LinksSpec,
    LinksState,
    Logs,
)

router = APIRouter(prefix="/v1/containers", tags=["containers"])
ContainerName = Annotated[str, Path(pattern=NAME_PATTERN)]


@router.put("/{name}", response_model=ContainerEnsureResult)
async def ensure_container(
    name: ContainerName, spec: ContainerSpec, engine: Engine, settings: Settings
) -> ContainerEnsureResult:
    """Ensure the container: create+start if absent, leave it if its spec hash matches
    (start it if stopped), else stop, remove and recreate it. `links` never recreate:
    they are applied in place (see PUT /v1/containers/{name}/links).

    Refused (403, naming the mount) without touching the engine: a bind mount from
    outside the host's allowed directories (WEFT_AGENT_BIND_ALLOW, plus the agent's
    data dir), or over the agent's token or the Docker socket."""
    check_spec(spec, settings)
    return await blocking(driver.ensure_container, engine, name, spec, settings.owner)


@router.get("", response_model=list[ContainerState])
async def list_containers(engine: Engine, label: LabelFilters) -> list[ContainerState]:
    """Containers weft manages on this host (label weft.managed=true), with their state."""
    return await blocking(driver.list_containers, engine, label)


@router.get("/{name}", response_model=ContainerState)
async def get_container(name: ContainerName, engine: Engine) -> ContainerState:
    """One weft container's state."""
    return await blocking(driver.get_container, engine, name)


@router.delete("/{name}", status_code=204)
async def delete_container(name: ContainerName, engine: Engine) -> Response:
    """Stop and remove the container; 204 also when it is absent."""
    await blocking(driver.delete_container, engine, name)
    return Response(status_code=204)


@router.post("/{name}/restart", response_model=ContainerState)
async def restart_container(name: ContainerName, engine: Engine) -> ContainerState:
    """Restart (or start) the container, then re-apply its links."""
    return await blocking(driver.restart_container, engine, name)


@router.get("/{name}/logs", response_model=Logs)
async def container_logs(
    name: ContainerName,
    engine: Engine,
    tail: Annotated[int | None, Query(ge=0, description="Last N lines; all if absent.")] = None,
) -> Logs:
    """The container's stdout and stderr."""
    text = await blocking(driver.container_logs, engine, name, tail)
    return Logs(name=name, tail=tail, text=text)


@router.put("/{name}/links", response_model=LinksState)
async def set_links(name: ContainerName, body: LinksSpec, engine: Engine) -> LinksState:
    """Replace the container's link set without restarting it.

    Rewrites weft's block in the container's /etc/hosts (`address alias` per target
    with an address; Docker's entries are kept) and /etc/weft/links.env with the
    Docker-compatible variables (ALIAS_PORT, ALIAS_PORT_3306_TCP_ADDR, ...), which
    login shells load through /etc/profile.d/weft-links.sh and `/etc/weft/with-links
    CMD` passes to CMD. The process's own environment keeps the creation-time values.
    The set is stored in the container and re-applied whenever it starts.
    """
    return await blocking(links.set_links, engine, name, body.links)


@router.get("/{name}/links", response_model=LinksState)
async def get_links(name: ContainerName, engine: Engine) -> LinksState:
    """The link set stored in the container and the variables it yields."""
    return await blocking(links.get_links, engine, name)
