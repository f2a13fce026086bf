"""The cluster's kernel networking: namespaces, the underlay bridge, veths, iptables.

Links and namespaces go through pyroute2. iptables has no netlink API, so its two
rules (letting frames bridged on the underlay through the root dockerd's FORWARD
DROP, and keeping them out of conntrack) are added and removed with the iptables
command, tagged with a comment so that only this cluster's rules are ever deleted.

The underlay plays a datacenter network: the bridge is its switch, which keeps no
connection state.
"""

import contextlib
import subprocess

from pyroute2 import IPRoute, netns
from pyroute2.netlink.exceptions import NetlinkError

from controlplane.devcluster.layout import ClusterLayout, HostLayout

_ENODEV = 19
_EEXIST = 17
_EADDRNOTAVAIL = 99


def _index(ipr: IPRoute, name: str) -> int | None:
    found = ipr.link_lookup(ifname=name)
    return int(found[0]) if found else None


def ensure_bridge(layout: ClusterLayout) -> None:
    """The underlay bridge in the root namespace, up, with the root's address on it."""
    with IPRoute() as ipr:
        if _index(ipr, layout.bridge) is None:
            ipr.link("add", ifname=layout.bridge, kind="bridge")
        idx = _index(ipr, layout.bridge)
        assert idx is not None
        with contextlib.suppress(NetlinkError):  # EEXIST: the address is already there
            ipr.addr(
                "add", index=idx, address=layout.root_address, prefixlen=layout.network.prefixlen
            )
        ipr.link("set", index=idx, state="up")


def ensure_host_net(host: HostLayout, bridge: str) -> None:
    """The host's namespace with `eth0` on the underlay (a veth into the bridge), and lo up."""
    if host.name not in netns.listnetns():
        netns.create(host.name)
    with IPRoute() as ipr:
        if _index(ipr, host.veth_root) is None:
            ipr.link("add", ifname=host.veth_root, kind="veth", peer={"ifname": host.veth_peer})
        root = _index(ipr, host.veth_root)
        master = _index(ipr, bridge)
        assert root is not None and master is not None
        ipr.link("set", index=root, master=master, state="up")
        peer = _index(ipr, host.veth_peer)
        if peer is not None:
            ipr.link("set", index=peer, net_ns_fd=host.name)
    with IPRoute(netns=host.name) as ns:
        lo = _index(ns, "lo")
        assert lo is not None
        ns.link("set", index=lo, state="up")
        peer = _index(ns, host.veth_peer)
        if peer is not None:
            ns.link("set", index=peer, ifname="eth0")
        eth0 = _index(ns, "eth0")
        assert eth0 is not None
        with contextlib.suppress(NetlinkError):
            ns.addr("add", index=eth0, address=host.address, prefixlen=host.prefixlen)
        ns.link("set", index=eth0, state="up")


def remove_host_net(name: str) -> None:
    """Remove the host's veth (its peer goes with it) and its namespace; absent is fine."""
    remove_link(name)
    if name in netns.listnetns():
        netns.remove(name)


def remove_link(name: str) -> None:
    """Remove a root-namespace link (a veth, the underlay bridge); absent is fine."""
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


def _forward_chain() -> str:
    """DOCKER-USER when a root dockerd made it (its FORWARD DROP would eat our frames)."""
    return "DOCKER-USER" if _iptables("-S", "DOCKER-USER").returncode == 0 else "FORWARD"


def _ensure_rule(table: str, chain: str, rule: list[str], comment: str) -> None:
    rule = [*rule, "-m", "comment", "--comment", comment]
    if _iptables("-t", table, "-C", chain, *rule).returncode != 0:
        done = _iptables("-t", table, "-I", chain, *rule)
        if done.returncode != 0:
            raise RuntimeError(f"iptables -t {table} -I {chain}: {done.stderr.strip()}")


def allow_bridged(layout: ClusterLayout) -> None:
    """Accept frames bridged between the underlay's ports (br_netfilter sends them to FORWARD),
    untracked: a switch keeps no connection state, and conntrack in the root namespace would
    cost every packet between two hosts a lookup that no real underlay charges to a host.
    The root's own traffic (the control plane to the agents) stays tracked."""
    comment = layout.iptables_comment
    _ensure_rule(
        "filter",
        _forward_chain(),
        ["-i", layout.bridge, "-o", layout.bridge, "-j", "ACCEPT"],
        comment,
    )
    untracked = ["-i", layout.bridge, "!", "-d", layout.root_address, "-j", "NOTRACK"]
    _ensure_rule("raw", "PREROUTING", untracked, comment)


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
