"""Bridge networks: ensure, get, list, delete."""

from fastapi import APIRouter

from controlplane.agent.api.deps import Engine, Settings, blocking
from controlplane.agent.api.objects import ObjectName, add_object_routes
from controlplane.agent.driver import networks as driver
from controlplane.contract.schemas import NetworkEnsureResult, NetworkSpec, NetworkState

router = APIRouter(prefix="/v1/networks", tags=["networks"])


@router.put("/{name}", response_model=NetworkEnsureResult)
async def ensure_network(
    name: ObjectName, spec: NetworkSpec, engine: Engine, settings: Settings
) -> NetworkEnsureResult:
    """Create the bridge network or confirm it; recreate it if it differs and is unused."""
    return await blocking(driver.ensure_network, engine, name, spec, settings.owner)


add_object_routes(
    router,
    "network",
    NetworkState,
    driver.list_networks,
    driver.get_network,
    driver.delete_network,
    ", 409 while containers are attached",
)
