"""Named volumes weft created (with a container that mounts them): list, get, delete.

Volumes are created by `containers._ensure_volumes`, labelled like everything
weft makes, so a stack removed with its volumes leaves no data behind, and one
removed without them can be deployed again onto the same data.
"""

import docker

from controlplane.agent.driver.engine import managed_filters, translate
from controlplane.agent.errors import Conflict, NotFound
from controlplane.contract import labels as L
from controlplane.contract.schemas import VolumeState


def _users(client: docker.DockerClient, name: str) -> list[str]:
    with translate(f"containers of volume {name}"):
        found = client.api.containers(all=True, filters={"volume": name})
    return sorted(c["Names"][0].lstrip("/") for c in found)


def _inspect(client: docker.DockerClient, name: str) -> dict[str, object] | None:
    try:
        with translate(f"volume {name}"):
            data: dict[str, object] = client.api.inspect_volume(name)
            return data
    except NotFound:
        return None


def _state(client: docker.DockerClient, data: dict[str, object]) -> VolumeState:
    name = str(data["Name"])
    labels = data.get("Labels") or {}
    assert isinstance(labels, dict)
    return VolumeState(
        name=name,
        driver=str(data.get("Driver") or "local"),
        labels={str(k): str(v) for k, v in labels.items()},
        in_use_by=_users(client, name),
    )


def get_volume(client: docker.DockerClient, name: str) -> VolumeState:
    """The volume, or NotFound."""
    data = _inspect(client, name)
    if data is None:
        raise NotFound(f"volume {name} does not exist", ["path", "name"])
    return _state(client, data)


def list_volumes(client: docker.DockerClient, label_filters: list[str]) -> list[VolumeState]:
    """Volumes labelled weft.managed=true (and every `k=v` of `label_filters`)."""
    filters = managed_filters(label_filters)
    with translate("list volumes"):
        found = client.api.volumes(filters=filters).get("Volumes") or []
    return sorted((_state(client, v) for v in found), key=lambda v: v.name)


def delete_volume(client: docker.DockerClient, name: str) -> None:
    """Remove a weft volume and its data; absent is fine, in use or not weft's is Conflict."""
    data = _inspect(client, name)
    if data is None:
        return
    state = _state(client, data)
    if state.labels.get(L.MANAGED) != L.MANAGED_VALUE:
        raise Conflict(f"volume {name} exists and is not managed by weft", ["path", "name"])
    if state.in_use_by:
        raise Conflict(
            f"volume {name} is used by containers: {', '.join(state.in_use_by)}",
            ["path", "name"],
        )
    with translate(f"remove volume {name}"):
        client.api.remove_volume(name)
