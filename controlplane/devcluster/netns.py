"""The cluster's kernel networking: the underlay's switch, the hosts' namespaces, veths.

The underlay plays a datacenter network, and its switch is a namespace of its own
(`<cluster>-sw`) holding one bridge: every host's `eth0` is a veth whose other end
is a port of that bridge, and the root namespace (where the control plane and the
tests run) has one more port, `<cluster>-ul`, with the gateway address. A real
switch runs no iptables on the hosts' CPUs, so br_netfilter is off in the switch's
namespace: frames between hosts are bridged and nothing else, instead of walking
the root namespace's FORWARD chain (which the machine's own dockerd owns).

Links and namespaces go through pyroute2; the per-namespace sysctls through nsenter
(a sysctl file shows the namespace of the process that opens it).
"""

import contextlib
import subprocess
from pathlib import Path

from pyroute2 import IPRoute, netns
from pyroute2.netlink.exceptions import NetlinkError

from controlplane.devcluster.layout import ClusterLayout, HostLayout

# br_netfilter's switches, per network namespace since Linux 5.3; 1 in a new namespace.
BRIDGE_NETFILTER_OFF = {
    f"net.bridge.bridge-nf-call-{family}": "0" for family in ("iptables", "ip6tables", "arptables")
}


def _index(ipr: IPRoute, name: str) -> int | None:
    found = ipr.link_lookup(ifname=name)
    return int(found[0]) if found else None


def _sysctl_in(netns_path: Path, settings: dict[str, str]) -> None:
    """Set sysctls inside a namespace."""
    args = [f"{key}={value}" for key, value in settings.items()]
    done = subprocess.run(
        ["nsenter", f"--net={netns_path}", "sysctl", "-q", "-w", *args],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise RuntimeError(f"sysctl in {netns_path}: {done.stderr.strip()}")


def read_sysctl_in(netns_path: Path, key: str) -> str:
    """A sysctl's value inside a namespace."""
    done = subprocess.run(
        ["nsenter", f"--net={netns_path}", "sysctl", "-n", key],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def _existing(ipr: IPRoute, name: str) -> int:
    idx = _index(ipr, name)
    assert idx is not None, name
    return idx


def _up(ipr: IPRoute, name: str, master: int | None = None) -> int:
    """Set the link up (enslaved to `master`); its index."""
    idx = _existing(ipr, name)
    if master is None:
        ipr.link("set", index=idx, state="up")
    else:
        ipr.link("set", index=idx, master=master, state="up")
    return idx


def ensure_switch(layout: ClusterLayout) -> None:
    """The switch's namespace and bridge (br_netfilter off), and the root's port with `.1`."""
    if layout.switch not in netns.listnetns():
        netns.create(layout.switch)
    _sysctl_in(layout.switch_netns_path, BRIDGE_NETFILTER_OFF)
    with IPRoute(netns=layout.switch) as sw:
        _up(sw, "lo")
        if _index(sw, layout.bridge) is None:
            sw.link("add", ifname=layout.bridge, kind="bridge")
        bridge = _up(sw, layout.bridge)
    with IPRoute() as ipr:
        if _index(ipr, layout.root_port) is None:
            peer = {"ifname": layout.uplink, "net_ns_fd": layout.switch}
            ipr.link("add", ifname=layout.root_port, kind="veth", peer=peer)
        idx = _up(ipr, layout.root_port)
        with contextlib.suppress(NetlinkError):  # EEXIST: the address is already there
            ipr.addr(
                "add", index=idx, address=layout.root_address, prefixlen=layout.network.prefixlen
            )
    with IPRoute(netns=layout.switch) as sw:
        _up(sw, layout.uplink, master=bridge)


def ensure_host_net(host: HostLayout, layout: ClusterLayout) -> None:
    """The host's namespace with `eth0` on the underlay (a veth from a switch port), lo up."""
    if host.name not in netns.listnetns():
        netns.create(host.name)
    with IPRoute(netns=layout.switch) as sw:
        if _index(sw, host.switch_port) is None:
            peer = {"ifname": "eth0", "net_ns_fd": host.name}
            sw.link("add", ifname=host.switch_port, kind="veth", peer=peer)
        _up(sw, host.switch_port, master=_existing(sw, layout.bridge))
    with IPRoute(netns=host.name) as ns:
        _up(ns, "lo")
        eth0 = _up(ns, "eth0")
        with contextlib.suppress(NetlinkError):
            ns.addr("add", index=eth0, address=host.address, prefixlen=host.prefixlen)


def remove_netns(name: str) -> None:
    """Remove a namespace (its links, and their peers elsewhere, go with it); absent is fine."""
    if name in netns.listnetns():
        netns.remove(name)


def remove_link(name: str) -> None:
    """Remove a root-namespace link (the root's port on the switch); absent is fine."""
    with IPRoute() as ipr:
        idx = _index(ipr, name)
        if idx is not None:
            with contextlib.suppress(NetlinkError):
                ipr.link("del", index=idx)


def links_with_prefix(prefix: str) -> list[str]:
    """Root-namespace link names starting with `prefix` (a crashed cluster's leftovers)."""
    with IPRoute() as ipr:
        names = [str(link.get_attr("IFLA_IFNAME")) for link in ipr.get_links()]
    return [n for n in names if n.startswith(prefix)]


def namespaces_with_prefix(prefix: str) -> list[str]:
    """Named network namespaces starting with `prefix`."""
    return [str(n) for n in netns.listnetns() if str(n).startswith(prefix)]


def _iptables(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["iptables", "-w", *args], capture_output=True, text=True)


# Where clusters made before the switch had its own namespace put their root-namespace
# rules (a bridge in the root namespace needed them): `down` still clears them.
RULE_CHAINS = (("filter", "DOCKER-USER"), ("filter", "FORWARD"), ("raw", "PREROUTING"))


def remove_rules(comment_prefix: str) -> None:
    """Delete the root-namespace rules (of `RULE_CHAINS`) whose comment starts with the prefix."""
    for table, chain in RULE_CHAINS:
        listing = _iptables("-t", table, "-S", chain)
        if listing.returncode != 0:
            continue
        for line in listing.stdout.splitlines():
            if (
                f'--comment "{comment_prefix}' not in line
                and f"--comment {comment_prefix}" not in line
            ):
                continue
            spec = line.split()[2:]  # drop "-A CHAIN"
            _iptables("-t", table, "-D", chain, *[s.strip('"') for s in spec])
