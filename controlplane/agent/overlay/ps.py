"""`weave ps`: every endpoint on this host's overlays, with its address and MAC.

Containers come from the engine (any container on an overlay, weft's or not:
the overlay is weft's, so whatever sits on it is shown); the host's own exposed
addresses come from the kernel, with the bridge's MAC.
"""

import docker
from pyroute2 import IPRoute

from controlplane.agent.driver import networks
from controlplane.agent.driver.engine import translate
from controlplane.agent.errors import NotFound
from controlplane.agent.overlay.attach import endpoint_of
from controlplane.agent.overlay.vxlan import exposed
from controlplane.agent.overlay.vxlan import translate as netlink
from controlplane.contract.overlay import VNI_LABEL, bridge_name
from controlplane.contract.schemas import NetworkState
from controlplane.contract.weave import OverlayEndpoint


def _mac(bridge: str) -> str | None:
    with IPRoute() as ipr, netlink(f"inspect {bridge}"):
        found = ipr.link_lookup(ifname=bridge)
        return str(ipr.get_links(found[0])[0].get_attr("IFLA_ADDRESS")) if found else None


def _containers(client: docker.DockerClient, network: NetworkState) -> list[OverlayEndpoint]:
    with translate(f"network {network.name}"):
        members = client.api.inspect_network(network.id).get("Containers") or {}
    out = []
    for cid in members:
        try:
            with translate(f"container {cid[:12]}"):
                out.append(endpoint_of(network.name, client.api.inspect_container(cid)))
        except NotFound:
            continue  # removed or detached meanwhile
    return out


def _host(network: NetworkState) -> list[OverlayEndpoint]:
    bridge = bridge_name(int(network.labels[VNI_LABEL]))
    addresses = exposed(bridge, network.gateway)
    mac = _mac(bridge) if addresses else None
    return [
        OverlayEndpoint(overlay=network.name, kind="host", name=bridge, address=a, mac_address=mac)
        for a in addresses
    ]


def ps(client: docker.DockerClient, overlay: str | None = None) -> list[OverlayEndpoint]:
    """The endpoints of every overlay on this host (or of one), by overlay, then name."""
    found = networks.list_networks(client, [VNI_LABEL])
    if overlay is not None:
        found = [n for n in found if n.name == overlay]
    out: list[OverlayEndpoint] = []
    for network in found:
        if not network.labels.get(VNI_LABEL, "").isdigit():
            continue
        out += _containers(client, network) + _host(network)
    return sorted(out, key=lambda e: (e.overlay, e.kind, e.name))
