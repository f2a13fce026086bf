"""Attach a running container to an overlay, or detach it, without restarting it.

Docker's network connect and disconnect act on the live container: its process,
PID and start time stay, it only gains or loses an interface. Only weft's
containers are moved (the same rule as every other container verb), and only
onto overlays. An attach whose address or aliases differ from the container's
current endpoint reconnects it, which is still no restart.
"""

import ipaddress
from typing import Any

import docker

from controlplane.agent.driver import networks
from controlplane.agent.driver.engine import NAME_LOCKS, translate
from controlplane.agent.driver.linkset import inspect_managed
from controlplane.agent.errors import Conflict, Invalid, NotFound
from controlplane.agent.overlay.datapath import vni_of
from controlplane.contract.schemas import NetworkState
from controlplane.contract.weave import AttachResult, AttachSpec, OverlayEndpoint

# Modes whose network namespace is not the container's own: Docker cannot connect them.
_SHARED_MODES = ("host", "none")


def _overlay(client: docker.DockerClient, name: str) -> NetworkState:
    network = networks.get_network(client, name)
    vni_of(network)  # NotFound unless it is an overlay
    return network


def _check_address(network: NetworkState, spec: AttachSpec) -> None:
    if spec.ipv4_address is None or network.subnet is None:
        return
    net = ipaddress.IPv4Network(network.subnet)
    address = ipaddress.IPv4Address(spec.ipv4_address)
    where = ["body", "ipv4_address"]
    if address not in net:
        raise Invalid(f"{address} is outside the overlay's subnet {net}", where)
    if address in (net.network_address, net.broadcast_address) or str(address) == network.gateway:
        raise Invalid(f"{address} is the subnet's own or the host's gateway address", where)


def _check_mode(data: dict[str, Any]) -> None:
    mode = str((data.get("HostConfig") or {}).get("NetworkMode") or "")
    if mode in _SHARED_MODES or mode.startswith("container:"):
        raise Conflict(
            f"container {data['Name'].lstrip('/')} runs in network mode {mode.split(':')[0]}"
            " and cannot join a network",
            ["path", "container"],
        )


def _matches(endpoint: dict[str, Any], cid: str, spec: AttachSpec) -> bool:
    """Whether the container's endpoint already is what `spec` asks for."""
    if spec.ipv4_address is not None and endpoint.get("IPAddress") != spec.ipv4_address:
        return False
    # Docker adds the container's short id as an alias of its own.
    have = set(endpoint.get("Aliases") or []) - {cid[:12]}
    return have == set(spec.aliases)


def endpoint_of(overlay: str, data: dict[str, Any]) -> OverlayEndpoint:
    """The container's endpoint on `overlay` from its inspect data."""
    ep = (data.get("NetworkSettings") or {}).get("Networks", {}).get(overlay)
    if not ep:
        raise NotFound(f"container {data['Name'].lstrip('/')} is not on {overlay}")
    cid = data["Id"]
    return OverlayEndpoint(
        overlay=overlay,
        kind="container",
        name=data["Name"].lstrip("/"),
        container_id=cid,
        address=f"{ep.get('IPAddress')}/{ep.get('IPPrefixLen')}",
        mac_address=ep.get("MacAddress") or None,
        aliases=sorted(set(ep.get("Aliases") or []) - {cid[:12]}),
    )


def attach(
    client: docker.DockerClient, overlay: str, container: str, spec: AttachSpec
) -> AttachResult:
    """Put the weft container on the overlay at the spec's address, with its aliases."""
    with NAME_LOCKS.hold(f"overlay:{overlay}"), NAME_LOCKS.hold(container):
        network = _overlay(client, overlay)
        _check_address(network, spec)
        data = inspect_managed(client, container)
        _check_mode(data)
        cid = data["Id"]
        current = (data.get("NetworkSettings") or {}).get("Networks", {}).get(overlay)
        action = "attached"
        if current:
            if _matches(current, cid, spec):
                return AttachResult(action="unchanged", endpoint=endpoint_of(overlay, data))
            with translate(f"detach {container} from {overlay}"):
                client.api.disconnect_container_from_network(cid, network.id)
            action = "reattached"
        with translate(f"attach {container} to {overlay}"):
            client.api.connect_container_to_network(
                cid, network.id, aliases=spec.aliases or None, ipv4_address=spec.ipv4_address
            )
            data = client.api.inspect_container(cid)
        return AttachResult.model_validate(
            {"action": action, "endpoint": endpoint_of(overlay, data)}
        )


def detach(client: docker.DockerClient, overlay: str, container: str) -> None:
    """Take the weft container off the overlay; absent (either of them, or the endpoint) is fine."""
    with NAME_LOCKS.hold(f"overlay:{overlay}"), NAME_LOCKS.hold(container):
        try:
            network = _overlay(client, overlay)
            data = inspect_managed(client, container)
        except NotFound:
            return
        if overlay not in (data.get("NetworkSettings") or {}).get("Networks", {}):
            return
        with translate(f"detach {container} from {overlay}"):
            client.api.disconnect_container_from_network(data["Id"], network.id)
