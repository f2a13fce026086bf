"""Containers: ensure by spec hash, list, get, delete, restart, logs, links."""

from typing import Annotated

from fastapi import APIRouter, Query

from controlplane.agent.api.deps import Engine, Settings, blocking
from controlplane.agent.api.objects import ObjectName, add_object_routes
from controlplane.agent.driver import containers as driver
from controlplane.agent.driver import linkset
from controlplane.agent.policy import check_spec
from controlplane.contract.bounds import MAX_LOG_TAIL
from controlplane.contract.schemas import (
    ContainerEnsureResult,
    ContainerSpec,
    ContainerState,
    LinksSpec,
    LinksState,
    Logs,
)

router = APIRouter(prefix="/v1/containers", tags=["containers"])


@router.put("/{name}", response_model=ContainerEnsureResult)
async def ensure_container(
    name: ObjectName, spec: ContainerSpec, engine: Engine, settings: Settings
) -> ContainerEnsureResult:
    """Ensure the container: create+start if absent, leave it if its spec hash matches
    (start it if stopped), else stop, remove and recreate it. `links` never recreate:
    they are applied in place (see PUT /v1/containers/{name}/links).

    Refused (403, naming the mount) without touching the engine: a bind mount from
    outside the host's allowed directories (WEFT_AGENT_BIND_ALLOW, plus the agent's
    data dir), or over the agent's token or the Docker socket."""
    check_spec(spec, settings)
    return await blocking(driver.ensure_container, engine, name, spec, settings.owner)


add_object_routes(
    router,
    "container",
    ContainerState,
    driver.list_containers,
    driver.get_container,
    driver.delete_container,
    " (it is stopped first)",
)


@router.post("/{name}/restart", response_model=ContainerState)
async def restart_container(name: ObjectName, engine: Engine) -> ContainerState:
    """Restart (or start) the container, then re-apply its links."""
    return await blocking(driver.restart_container, engine, name)


@router.get("/{name}/logs", response_model=Logs)
async def container_logs(
    name: ObjectName,
    engine: Engine,
    tail: Annotated[
        int | None, Query(ge=0, le=MAX_LOG_TAIL, description="Last N lines; all if absent.")
    ] = None,
) -> Logs:
    """The container's stdout and stderr."""
    text = await blocking(driver.container_logs, engine, name, tail)
    return Logs(name=name, tail=tail, text=text)


@router.put("/{name}/links", response_model=LinksState)
async def set_links(name: ObjectName, body: LinksSpec, engine: Engine) -> LinksState:
    """Replace the container's link set without restarting it.

    Rewrites weft's block in the container's /etc/hosts (`address alias` per target
    with an address; Docker's entries are kept) and /etc/weft/links.env with the
    Docker-compatible variables (ALIAS_PORT, ALIAS_PORT_3306_TCP_ADDR, ...), which
    login shells load through /etc/profile.d/weft-links.sh and `/etc/weft/with-links
    CMD` passes to CMD. The process's own environment keeps the creation-time values.
    The set is stored in the container and re-applied whenever it starts.
    """
    return await blocking(linkset.set_links, engine, name, body.links)


@router.get("/{name}/links", response_model=LinksState)
async def get_links(name: ObjectName, engine: Engine) -> LinksState:
    """The link set stored in the container and the variables it yields."""
    return await blocking(linkset.get_links, engine, name)
