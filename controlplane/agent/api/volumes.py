"""Named volumes: get, list, delete (containers create them as they mount them)."""

from fastapi import APIRouter

from controlplane.agent.api.objects import add_object_routes
from controlplane.agent.driver import volumes as driver
from controlplane.contract.schemas import VolumeState

router = APIRouter(prefix="/v1/volumes", tags=["volumes"])

add_object_routes(
    router,
    "volume",
    VolumeState,
    driver.list_volumes,
    driver.get_volume,
    driver.delete_volume,
    ", 409 while a container uses it",
)
