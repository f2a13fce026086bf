"""Bridge networks: ensure (create / unchanged / recreate when unused), delete, list."""

from typing import Any

import docker
from docker.types import IPAMConfig, IPAMPool

from controlplane.agent.driver.engine import inspect_each, managed_filters, translate
from controlplane.agent.errors import Conflict, NotFound
from controlplane.contract import labels as L
from controlplane.contract.schemas import (
    EngineNetwork,
    NetworkEnsureResult,
    NetworkSpec,
    NetworkState,
)

BRIDGE_NAME = "com.docker.network.bridge.name"
MTU = "com.docker.network.driver.mtu"


def _find(client: docker.DockerClient, name: str) -> dict[str, Any] | None:
    """The network's inspect data by exact name (the engine also matches id prefixes)."""
    with translate(f"network {name}"):
        for summary in client.api.networks(names=[name]):
            if summary["Name"] == name:
                data: dict[str, Any] = client.api.inspect_network(summary["Id"])
                return data
    return None


def to_state(data: dict[str, Any]) -> NetworkState:
    """The engine's inspect data as a `NetworkState`."""
    pools = (data.get("IPAM") or {}).get("Config") or [{}]
    pool = pools[0]
    containers = [c.get("Name", cid) for cid, c in (data.get("Containers") or {}).items()]
    return NetworkState(
        name=data["Name"],
        id=data["Id"],
        driver=data.get("Driver", ""),
        subnet=pool.get("Subnet") or None,
        gateway=pool.get("Gateway") or None,
        ip_range=pool.get("IPRange") or None,
        internal=bool(data.get("Internal")),
        options=data.get("Options") or {},
        labels=data.get("Labels") or {},
        containers=sorted(containers),
    )


def _options(spec: NetworkSpec) -> dict[str, str]:
    options = dict(spec.options)
    if spec.bridge_name:
        options[BRIDGE_NAME] = spec.bridge_name
    if spec.mtu:
        options[MTU] = str(spec.mtu)
    return options


def _matches(state: NetworkState, spec: NetworkSpec, labels: dict[str, str]) -> bool:
    """Whether the existing network is what `spec` asks for (unset addresses: any)."""
    wanted = {
        "driver": (state.driver, spec.driver),
        "internal": (state.internal, spec.internal),
        "options": (state.options, _options(spec)),
        "labels": (state.labels, labels),
    }
    if spec.subnet:
        wanted["subnet"] = (state.subnet, spec.subnet)
        wanted["gateway"] = (state.gateway, spec.gateway or state.gateway)
        wanted["ip_range"] = (state.ip_range, spec.ip_range)
    return all(have == want for have, want in wanted.values())


def _create(
    client: docker.DockerClient, name: str, spec: NetworkSpec, labels: dict[str, str]
) -> None:
    ipam = None
    if spec.subnet:
        pool = IPAMPool(subnet=spec.subnet, gateway=spec.gateway, iprange=spec.ip_range)
        ipam = IPAMConfig(pool_configs=[pool])
    with translate(f"create network {name}"):
        client.api.create_network(
            name,
            driver=spec.driver,
            options=_options(spec),
            ipam=ipam,
            internal=spec.internal,
            labels=labels,
            check_duplicate=True,
        )


def _require_managed(state: NetworkState) -> None:
    if state.labels.get(L.MANAGED) != L.MANAGED_VALUE:
        raise Conflict(f"network {state.name} exists and is not managed by weft", ["path", "name"])


def ensure_network(
    client: docker.DockerClient, name: str, spec: NetworkSpec, owner: str
) -> NetworkEnsureResult:
    """Create the network, leave it if it matches, or recreate it if it is unused."""
    labels = L.managed_labels(owner, spec.labels)
    data = _find(client, name)
    action = "created"
    if data is not None:
        state = to_state(data)
        _require_managed(state)
        if _matches(state, spec, labels):
            return NetworkEnsureResult(action="unchanged", network=state)
        if state.containers:
            raise Conflict(
                f"network {name} differs from the spec but containers are attached: "
                + ", ".join(state.containers),
                ["path", "name"],
            )
        with translate(f"remove network {name}"):
            client.api.remove_network(state.id)
        action = "recreated"
    _create(client, name, spec, labels)
    created = _find(client, name)
    if created is None:
        raise NotFound(f"network {name} vanished right after its creation")
    return NetworkEnsureResult.model_validate({"action": action, "network": to_state(created)})


def get_network(client: docker.DockerClient, name: str) -> NetworkState:
    """The network, or NotFound."""
    data = _find(client, name)
    if data is None:
        raise NotFound(f"network {name} does not exist", ["path", "name"])
    return to_state(data)


def delete_network(client: docker.DockerClient, name: str) -> None:
    """Remove a weft network; absent is fine, attached containers are a Conflict."""
    data = _find(client, name)
    if data is None:
        return
    state = to_state(data)
    _require_managed(state)
    if state.containers:
        raise Conflict(
            f"network {name} has containers attached: " + ", ".join(state.containers),
            ["path", "name"],
        )
    with translate(f"remove network {name}"):
        client.api.remove_network(state.id)


def list_networks(client: docker.DockerClient, label_filters: list[str]) -> list[NetworkState]:
    """Networks labelled weft.managed=true (and every `k=v` of `label_filters`)."""
    with translate("list networks"):
        summaries = client.api.networks(filters=managed_filters(label_filters))
    out = inspect_each(
        summaries,
        lambda s: f"network {s['Name']}",
        lambda s: to_state(client.api.inspect_network(s["Id"])),
    )
    return sorted(out, key=lambda n: n.name)


def engine_networks(client: docker.DockerClient) -> list[EngineNetwork]:
    """Every network the engine has, weft's or not (docker0 too), with its subnets."""
    with translate("list networks"):
        summaries = client.api.networks()
    out = []
    for summary in summaries:
        pools = (summary.get("IPAM") or {}).get("Config") or []
        subnets = [p["Subnet"] for p in pools if p.get("Subnet")]
        owner = (summary.get("Labels") or {}).get(L.OWNER)
        out.append(EngineNetwork(name=summary["Name"], subnets=subnets, owner=owner))
    return sorted(out, key=lambda n: n.name)
