"""Dependencies shared by the routes: the engine client, settings, label filters."""

from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import docker
from fastapi import Depends, Query, Request
from starlette.concurrency import run_in_threadpool

from controlplane.agent.errors import Invalid
from controlplane.agent.settings import AgentSettings

T = TypeVar("T")


def _engine(request: Request) -> docker.DockerClient:
    client: docker.DockerClient = request.app.state.docker
    return client


def _settings(request: Request) -> AgentSettings:
    settings: AgentSettings = request.app.state.settings
    return settings


def _label_filters(
    label: Annotated[
        list[str], Query(description="Only objects with this label, as key=value; repeatable.")
    ] = [],  # noqa: B006 -- FastAPI copies query defaults
) -> list[str]:
    for i, item in enumerate(label):
        if "=" not in item:
            raise Invalid(f"label filter {item!r} is not key=value", ["query", "label", i])
    return label


Engine = Annotated[docker.DockerClient, Depends(_engine)]
Settings = Annotated[AgentSettings, Depends(_settings)]
LabelFilters = Annotated[list[str], Depends(_label_filters)]


async def blocking(fn: Callable[..., T], *args: Any) -> T:
    """Run a blocking driver call in a worker thread."""
    return await run_in_threadpool(fn, *args)
