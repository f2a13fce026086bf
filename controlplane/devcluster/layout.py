"""Where a test cluster's parts live: names, addresses and paths (pure, no I/O).

Interface names are capped at 15 characters by the kernel and unix socket paths
at 107, so a cluster name is short and everything else is derived from it.
"""

import ipaddress
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from controlplane.contract.overlay import OverlayPeer, OverlaySpec

NAME_RE = re.compile(r"^[a-z][a-z0-9]{1,9}$")
AGENT_PORT = 7946
MAX_HOSTS = 32
# The parent under which a cluster's own state lives; /run holds sockets (short paths).
STATE_ROOT = Path("/var/lib/weft-cluster")
RUN_ROOT = Path("/run")


def switch_name(cluster: str) -> str:
    """The namespace of cluster `cluster`'s underlay switch (`down` needs no layout for it)."""
    return f"{cluster}-sw"


def root_port_name(cluster: str) -> str:
    """The root namespace's port on cluster `cluster`'s switch."""
    return f"{cluster}-ul"


@dataclass(frozen=True)
class HostLayout:
    """One host of the cluster: its namespace, underlay link, dockerd and agent."""

    cluster: str
    index: int
    address: str
    prefixlen: int
    state_root: Path
    run_root: Path

    @property
    def name(self) -> str:
        """The host's name, also its namespace's and its root-side veth's: `<cluster>-h<i>`."""
        return f"{self.cluster}-h{self.index}"

    @property
    def switch_port(self) -> str:
        """The switch's port the host's `eth0` is plugged into (a veth end, in the switch)."""
        return self.name

    @property
    def netns_path(self) -> Path:
        """The namespace's bind mount (what nsenter --net= takes)."""
        return Path("/var/run/netns") / self.name

    @property
    def dir(self) -> Path:
        """The host's state: Docker's data root, logs, token."""
        return self.state_root / self.name

    @property
    def data_root(self) -> Path:
        """dockerd --data-root."""
        return self.dir / "docker"

    @property
    def exec_root(self) -> Path:
        """dockerd --exec-root, and where its socket and pid file live."""
        return self.run_root / self.name

    @property
    def docker_socket(self) -> Path:
        """The host's Docker engine socket."""
        return self.exec_root / "docker.sock"

    @property
    def docker_url(self) -> str:
        """The engine URL the agent and the docker SDK take."""
        return f"unix://{self.docker_socket}"

    @property
    def dockerd_pidfile(self) -> Path:
        """dockerd --pidfile."""
        return self.exec_root / "dockerd.pid"

    @property
    def agent_pidfile(self) -> Path:
        """The agent's pid, written when we start it."""
        return self.dir / "agent.pid"

    @property
    def cgroup_parent(self) -> str:
        """dockerd --cgroup-parent: the host's containers are found here after a crash."""
        return self.name

    @property
    def bip(self) -> str:
        """docker0's address inside the namespace (local to it, so hosts may share it)."""
        return "172.18.0.1/24"

    @property
    def agent_url(self) -> str:
        """The agent's URL on the underlay."""
        return f"http://{self.address}:{AGENT_PORT}"


@dataclass(frozen=True)
class ClusterLayout:
    """A whole cluster: the underlay's switch, the root namespace's address, the hosts."""

    name: str
    underlay: str
    host_count: int
    state_root: Path = STATE_ROOT
    run_root: Path = RUN_ROOT

    def __post_init__(self) -> None:
        if not NAME_RE.match(self.name):
            raise ValueError(f"cluster name {self.name!r} must match {NAME_RE.pattern}")
        if not 1 <= self.host_count <= MAX_HOSTS:
            raise ValueError(f"a cluster has 1 to {MAX_HOSTS} hosts, not {self.host_count}")
        net = ipaddress.ip_network(self.underlay, strict=True)
        if net.version != 4 or net.num_addresses < self.host_count + 16:
            raise ValueError(f"underlay {self.underlay} is too small for {self.host_count} hosts")

    @property
    def network(self) -> ipaddress.IPv4Network:
        """The underlay subnet."""
        net = ipaddress.ip_network(self.underlay)
        assert isinstance(net, ipaddress.IPv4Network)
        return net

    @property
    def switch(self) -> str:
        """The underlay's switch: a network namespace of its own, holding the bridge."""
        return switch_name(self.name)

    @property
    def switch_netns_path(self) -> Path:
        """The switch namespace's bind mount (what nsenter --net= takes)."""
        return Path("/var/run/netns") / self.switch

    @property
    def bridge(self) -> str:
        """The bridge inside the switch's namespace."""
        return "underlay"

    @property
    def root_port(self) -> str:
        """The root namespace's port on the switch (a veth), holding `root_address`."""
        return root_port_name(self.name)

    @property
    def uplink(self) -> str:
        """The root port's other end, a port of the bridge inside the switch."""
        return "root"

    @property
    def root_address(self) -> str:
        """The root namespace's address on the underlay (where the control plane sits)."""
        return str(self.network.network_address + 1)

    @property
    def dir(self) -> Path:
        """The cluster's state directory (state file, token, control plane, hosts)."""
        return self.state_root / self.name

    def hosts(self) -> list[HostLayout]:
        """The hosts h1..hN, addressed .11, .12, ... on the underlay."""
        base = self.network.network_address
        return [
            HostLayout(
                cluster=self.name,
                index=i,
                address=str(base + 10 + i),
                prefixlen=self.network.prefixlen,
                state_root=self.dir,
                run_root=self.run_root,
            )
            for i in range(1, self.host_count + 1)
        ]


def pick_underlay(name: str, taken: list[str]) -> str:
    """A /24 in 10.231.0.0/16 that overlaps no route in `taken`, chosen from the name."""
    used = [ipaddress.ip_network(t, strict=False) for t in taken]
    start = sum(name.encode()) % 256
    for k in range(256):
        candidate = ipaddress.ip_network(f"10.231.{(start + k) % 256}.0/24")
        if not any(candidate.overlaps(u) for u in used):
            return str(candidate)
    raise ValueError("no free /24 left in 10.231.0.0/16 for the underlay")


def overlay_spec(
    vni: int, host: HostLayout, octet: int, local: str | None = None, peers: Sequence[str] = ()
) -> OverlaySpec:
    """A cluster overlay's spec for `host`: subnet 10.<octet>.0.0/16, the host's range
    10.<octet>.<index>.0/24 with gateway .1, its VTEP `local` (its underlay address unless
    given, e.g. a tunnel address) and the peers' VTEPs."""
    return OverlaySpec(
        vni=vni,
        subnet=f"10.{octet}.0.0/16",
        ip_range=f"10.{octet}.{host.index}.0/24",
        gateway=f"10.{octet}.{host.index}.1",
        local=local or host.address,
        peers=[OverlayPeer(address=p) for p in peers],
    )
