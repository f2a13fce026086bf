"""Overlay networks on this host: the Docker bridge network plus its VXLAN device.

Ensure order matters for a crash in between: the network (and so its bridge)
first, then the device enslaved to it, then the forwarding entries; a repeated
ensure finishes whatever an interrupted one left. Delete checks for attached
containers first, removes the device, then the network, so an interrupted
delete leaves at worst a network that the next ensure or delete completes.
"""

import contextlib
import logging

import docker

from controlplane.agent.driver import networks
from controlplane.agent.driver.engine import NAME_LOCKS
from controlplane.agent.errors import AgentFailure, Conflict, Invalid, NotFound
from controlplane.agent.overlay import fastpath, vxlan
from controlplane.contract.overlay import (
    VNI_LABEL,
    VXLAN_OVERHEAD,
    OverlayEnsureResult,
    OverlaySpec,
    OverlayState,
    bridge_name,
    vxlan_name,
)
from controlplane.contract.schemas import NetworkSpec, NetworkState

log = logging.getLogger(__name__)


def _network_spec(spec: OverlaySpec, mtu: int) -> NetworkSpec:
    return NetworkSpec(
        subnet=spec.subnet,
        gateway=spec.gateway,
        ip_range=spec.ip_range,
        mtu=mtu,
        bridge_name=bridge_name(spec.vni),
        labels={**spec.labels, VNI_LABEL: str(spec.vni)},
    )


def vni_of(network: NetworkState) -> int:
    """The overlay's VNI from its network's label; NotFound when the network is no overlay."""
    value = network.labels.get(VNI_LABEL)
    if value is None or not value.isdigit():
        raise NotFound(f"network {network.name} is not an overlay", ["path", "name"])
    return int(value)


def _state(network: NetworkState) -> OverlayState:
    vni = vni_of(network)
    device = vxlan.get(vxlan_name(vni))
    under = None
    if device is not None and device.local:
        # Its VTEP address may be gone (a tunnel removed, an address moved): the overlay
        # is still listed, without an underlay, so it can be repaired or removed.
        with contextlib.suppress(Invalid):
            under = vxlan.underlay(device.local)
    return OverlayState(
        name=network.name,
        vni=vni,
        device=vxlan_name(vni),
        bridge=bridge_name(vni),
        local=(device.local or "") if device else "",
        port=device.port if device else 0,
        mtu=device.mtu if device else 0,
        underlay_device=under.name if under else None,
        underlay_mtu=under.mtu if under else None,
        peers=vxlan.flood_peers(vxlan_name(vni)),
        exposed=vxlan.exposed(bridge_name(vni), network.gateway),
        fast_path=fastpath.count(vni),
        network=network,
    )


def ensure_overlay(
    client: docker.DockerClient, name: str, spec: OverlaySpec, owner: str
) -> OverlayEnsureResult:
    """The overlay's network, VXLAN device and flood entries as `spec` says."""
    with NAME_LOCKS.hold(f"overlay:{name}"):
        return _ensure(client, name, spec, owner)


def _ensure(
    client: docker.DockerClient, name: str, spec: OverlaySpec, owner: str
) -> OverlayEnsureResult:
    under = vxlan.underlay(spec.local)
    mtu = spec.mtu or under.mtu - VXLAN_OVERHEAD
    net = networks.ensure_network(client, name, _network_spec(spec, mtu), owner)
    device = vxlan.ensure(
        vxlan_name(spec.vni), spec.vni, spec.local, spec.port, mtu, bridge_name(spec.vni)
    )
    peers_changed = vxlan.sync_peers(vxlan_name(spec.vni), [p.address for p in spec.peers])
    try:
        fastpath.sync(client, net.network)
    except AgentFailure:  # the overlay works without it, over the bridge; its state says 0
        log.warning("overlay %s: fast path not programmed", name, exc_info=True)
    if net.action == "created":
        action = "created"
    elif "recreated" in (net.action, device):
        action = "recreated"
    elif device != "unchanged" or peers_changed:
        action = "updated"
    else:
        action = "unchanged"
    return OverlayEnsureResult.model_validate({"action": action, "overlay": _state(net.network)})


def get_overlay(client: docker.DockerClient, name: str) -> OverlayState:
    """The overlay `name` on this host, or NotFound."""
    return _state(networks.get_network(client, name))


def list_overlays(client: docker.DockerClient) -> list[OverlayState]:
    """Every overlay on this host (weft networks carrying the VNI label)."""
    return [_state(n) for n in networks.list_networks(client, [VNI_LABEL])]


def delete_overlay(client: docker.DockerClient, name: str) -> None:
    """Remove the overlay's device and network; absent is fine, attached containers 409."""
    with NAME_LOCKS.hold(f"overlay:{name}"):
        _delete(client, name)


def _delete(client: docker.DockerClient, name: str) -> None:
    try:
        network = networks.get_network(client, name)
    except NotFound:
        return
    vni = vni_of(network)
    if network.containers:
        raise Conflict(
            f"overlay {name} has containers attached: " + ", ".join(network.containers),
            ["path", "name"],
        )
    fastpath.remove(vni)
    vxlan.delete(vxlan_name(vni))
    networks.delete_network(client, name)
