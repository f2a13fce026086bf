"""`weave reset`: remove everything weft put on this host, and nothing else.

What is weft's is known exactly: containers and networks carry `weft.managed`,
overlay devices and bridges are named `weftv<vni>` / `weftb<vni>` (their fast
paths' nftables tables `weft_fp_<vni>`), tunnels
`weftwg...` with the pid files of the wireguard-go processes the agent started
in its state directory, and the DNS records are the responder's. A container or
network without weft's label is never touched; a foreign container attached to
a weft network is only disconnected from it (the network is weft's). Named
volumes (data) and images stay, and so does the host's WireGuard key (its
identity, not state).

Each step is idempotent, so a reset interrupted by a crash is finished by the
next one; containers go first so that networks and devices are free to go.
"""

import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import docker
from pyroute2 import IPRoute

from controlplane.agent.dns.server import DnsServer
from controlplane.agent.driver import containers, networks
from controlplane.agent.driver.engine import translate
from controlplane.agent.overlay import datapath, expose, fastpath, wireguard
from controlplane.agent.overlay.vxlan import translate as netlink
from controlplane.contract.dns import DnsRecordSet
from controlplane.contract.overlay import VNI_LABEL, bridge_name
from controlplane.contract.schemas import NetworkState
from controlplane.contract.tunnel import IFNAME_PATTERN
from controlplane.contract.weave import ResetResult

_DEVICE = re.compile(r"^weft[bv][0-9]{1,8}$")
# Containers stop in parallel (each may take its stop timeout).
_PARALLEL = 8


def _remove_containers(client: docker.DockerClient) -> list[str]:
    names = [c.name for c in containers.list_containers(client, [])]
    with ThreadPoolExecutor(_PARALLEL) as pool:
        list(pool.map(lambda n: containers.delete_container(client, n), names))
    return names


def _disconnect_strangers(client: docker.DockerClient, network: NetworkState) -> None:
    """Take containers weft did not make off weft's network (they stay running)."""
    with translate(f"network {network.name}"):
        members = client.api.inspect_network(network.id).get("Containers") or {}
        for cid in members:
            client.api.disconnect_container_from_network(cid, network.id, force=True)


def _remove_networks(client: docker.DockerClient) -> tuple[list[str], list[str]]:
    """Every weft network (overlays with their device); the names and the hidden addresses."""
    removed, hidden = [], []
    for network in networks.list_networks(client, []):
        _disconnect_strangers(client, network)
        vni = network.labels.get(VNI_LABEL, "")
        if vni.isdigit():
            bridge = bridge_name(int(vni))
            addresses = expose.exposed(bridge, network.gateway)
            expose.hide_on(bridge, addresses)
            hidden += [f"{network.name}:{a}" for a in addresses]
            datapath.delete_overlay(client, network.name)
        else:
            networks.delete_network(client, network.name)
        removed.append(network.name)
    return removed, hidden


def _docker_bridges(client: docker.DockerClient) -> set[str]:
    """The bridge devices of the engine's networks (weft's names or not)."""
    with translate("list networks"):
        summaries = client.api.networks()
    return {
        str((s.get("Options") or {}).get(networks.BRIDGE_NAME, ""))
        for s in summaries
        if s.get("Driver") == "bridge"
    }


def _remove_stray_devices(client: docker.DockerClient) -> list[str]:
    """VXLAN devices and bridges of weft's names that no engine network holds (a crash's)."""
    kept = _docker_bridges(client)
    removed = []
    with IPRoute() as ipr, netlink("remove stray overlay devices"):
        for link in ipr.get_links():
            name = str(link.get_attr("IFLA_IFNAME"))
            info = link.get_attr("IFLA_LINKINFO")
            kind = info.get_attr("IFLA_INFO_KIND") if info is not None else None
            if not _DEVICE.match(name) or kind not in ("vxlan", "bridge") or name in kept:
                continue
            ipr.link("del", index=link["index"])
            removed.append(name)
    return sorted(removed)


def _remove_fast_paths() -> list[str]:
    """Every overlay fast-path table left (an overlay's own went with it)."""
    tables = fastpath.tables()
    for table in tables:
        fastpath.remove(int(table.removeprefix(fastpath.TABLE_PREFIX)))
    return tables


def _remove_tunnels(state_dir: Path | None) -> tuple[list[str], list[int]]:
    """Every weft WireGuard interface with its route, every wireguard-go the agent started
    (by pid, also one whose interface is gone already)."""
    names = wireguard.interfaces()
    pids = [pid for name in names if (pid := wireguard.delete(name, state_dir)) is not None]
    if state_dir is not None:
        for pidfile in sorted(state_dir.glob("weftwg*.pid")):
            if re.match(IFNAME_PATTERN, pidfile.stem) and (pid := wireguard.stop_started(pidfile)):
                pids.append(pid)
    wireguard.remove_blackholes()
    return names, pids


def _clear_dns(dns: DnsServer | None) -> int:
    if dns is None:
        return 0
    count = len(dns.state().records)
    if count:
        dns.set_records(DnsRecordSet())
    return count


def reset(
    client: docker.DockerClient, state_dir: Path | None, dns: DnsServer | None
) -> ResetResult:
    """Remove weft's containers, networks, overlay devices, tunnels, DNS records, exposed
    addresses from this host; what was removed."""
    dns_records = _clear_dns(dns)
    removed_containers = _remove_containers(client)
    removed_networks, hidden = _remove_networks(client)
    fast_paths = _remove_fast_paths()
    devices = _remove_stray_devices(client)
    tunnels, pids = _remove_tunnels(state_dir)
    return ResetResult(
        containers=removed_containers,
        networks=removed_networks,
        devices=devices,
        tunnels=tunnels,
        fast_paths=fast_paths,
        processes=pids,
        exposed=hidden,
        dns_records=dns_records,
    )
