"""Expose the host on an overlay (an address of its own on the overlay's bridge), or hide it.

The bridge already holds the host's gateway address, which Docker manages; an
exposed address is any other IPv4 address on it, added with the subnet's
prefix so the host answers for it on the whole overlay (ARP requests from other
hosts' containers arrive through the VXLAN device on the same bridge). The
control plane picks the address from its IPAM, so Docker never hands it to a
container; the agent still refuses one a container of the overlay holds.
"""

import ipaddress
import socket

import docker
from pyroute2 import IPRoute

from controlplane.agent.driver import networks
from controlplane.agent.driver.engine import NAME_LOCKS
from controlplane.agent.errors import Conflict, DriverError, Invalid, NotFound
from controlplane.agent.overlay.datapath import vni_of
from controlplane.agent.overlay.vxlan import exposed, translate
from controlplane.contract.overlay import bridge_name
from controlplane.contract.schemas import NetworkState
from controlplane.contract.weave import ExposeResult

_WHERE = ["path", "address"]


def _bridge_index(ipr: IPRoute, bridge: str) -> int:
    found = ipr.link_lookup(ifname=bridge)
    if not found:
        raise DriverError(f"bridge {bridge} of the overlay's network does not exist")
    return int(found[0])


def _check(network: NetworkState, address: str) -> ipaddress.IPv4Interface:
    if network.subnet is None:
        raise Conflict(f"overlay {network.name} has no subnet")
    net = ipaddress.IPv4Network(network.subnet)
    try:
        ip = ipaddress.IPv4Address(address)
    except ValueError as exc:
        raise Invalid(f"{address!r} is not an IPv4 address", _WHERE) from exc
    if ip not in net:
        raise Invalid(f"{ip} is outside the overlay's subnet {net}", _WHERE)
    if ip in (net.network_address, net.broadcast_address) or str(ip) == network.gateway:
        raise Invalid(f"{ip} is the subnet's own or the host's gateway address", _WHERE)
    return ipaddress.IPv4Interface(f"{ip}/{net.prefixlen}")


def _held_by_container(client: docker.DockerClient, network: NetworkState, ip: str) -> str | None:
    """The name of the overlay's container holding `ip` on this host, if one does."""
    data = client.api.inspect_network(network.id)
    for c in (data.get("Containers") or {}).values():
        if str(c.get("IPv4Address", "")).split("/")[0] == ip:
            return str(c.get("Name", ""))
    return None


def expose(client: docker.DockerClient, overlay: str, address: str) -> ExposeResult:
    """The host holds `address` on the overlay's bridge (exposed, or unchanged)."""
    with NAME_LOCKS.hold(f"overlay:{overlay}"):
        network = networks.get_network(client, overlay)
        bridge = bridge_name(vni_of(network))
        iface = _check(network, address)
        holder = _held_by_container(client, network, str(iface.ip))
        if holder:
            raise Conflict(f"{iface.ip} is held by container {holder} on {overlay}", _WHERE)
        action = "unchanged"
        if str(iface) not in exposed(bridge, network.gateway):
            with IPRoute() as ipr, translate(f"expose {iface} on {bridge}"):
                idx = _bridge_index(ipr, bridge)
                for old in ipr.get_addr(index=idx, family=socket.AF_INET, address=str(iface.ip)):
                    ipr.addr("del", index=idx, address=str(iface.ip), prefixlen=old["prefixlen"])
                ipr.addr("add", index=idx, address=str(iface.ip), prefixlen=iface.network.prefixlen)
            action = "exposed"
        return ExposeResult.model_validate(
            {
                "action": action,
                "overlay": overlay,
                "bridge": bridge,
                "addresses": exposed(bridge, network.gateway),
            }
        )


def hide(client: docker.DockerClient, overlay: str, address: str) -> None:
    """The host no longer holds `address` on the overlay; absent (or no overlay) is fine."""
    with NAME_LOCKS.hold(f"overlay:{overlay}"):
        try:
            network = networks.get_network(client, overlay)
            bridge = bridge_name(vni_of(network))
        except NotFound:
            return
        ip = str(_check(network, address).ip)
        hide_on(bridge, [a for a in exposed(bridge, network.gateway) if a.split("/")[0] == ip])


def hide_on(bridge: str, addresses: list[str]) -> None:
    """Remove these `ip/prefix` addresses from `bridge` (gone already: fine)."""
    if not addresses:
        return
    with IPRoute() as ipr, translate(f"hide addresses on {bridge}"):
        found = ipr.link_lookup(ifname=bridge)
        if not found:
            return
        for item in addresses:
            ip, _, plen = item.partition("/")
            if ipr.get_addr(index=found[0], family=socket.AF_INET, address=ip):
                ipr.addr("del", index=found[0], address=ip, prefixlen=int(plen))
