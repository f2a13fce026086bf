"""Bridge networks: ensure, get, list, delete."""

from typing import Annotated

from fastapi import APIRouter, Path, Response

from controlplane.agent.api.deps import Engine, LabelFilters, Settings, blocking
from controlplane.agent.driver import networks as driver
from controlplane.contract.schemas import (
    NAME_PATTERN,
    NetworkEnsureResult,
    NetworkSpec,
    NetworkState,
)

router = APIRouter(prefix="/v1/networks", tags=["networks"])
NetworkName = Annotated[str, Path(pattern=NAME_PATTERN)]


@router.put("/{name}", response_model=NetworkEnsureResult)
async def ensure_network(
    name: NetworkName, spec: NetworkSpec, engine: Engine, settings: Settings
) -> NetworkEnsureResult:
    """Create the bridge network or confirm it; recreate it if it differs and is unused."""
    return await blocking(driver.ensure_network, engine, name, spec, settings.owner)


@router.get("", response_model=list[NetworkState])
async def list_networks(engine: Engine, label: LabelFilters) -> list[NetworkState]:
    """Networks weft manages on this host (label weft.managed=true)."""
    return await blocking(driver.list_networks, engine, label)


@router.get("/{name}", response_model=NetworkState)
async def get_network(name: NetworkName, engine: Engine) -> NetworkState:
    """One network by name."""
    return await blocking(driver.get_network, engine, name)


@router.delete("/{name}", status_code=204)
async def delete_network(name: NetworkName, engine: Engine) -> Response:
    """Remove the network; 204 also when it is absent, 409 while containers are attached."""
    await blocking(driver.delete_network, engine, name)
    return Response(status_code=204)
