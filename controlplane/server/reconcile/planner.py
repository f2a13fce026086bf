"""The pure planner: desired state + what the agent reports -> ordered actions.

No I/O here. The runner observes, calls `plan`, executes the actions in order and
observes again; an empty plan means the host has converged. Every action is
idempotent on the agent side, so re-running a half-done plan (after an agent or
control-plane crash) creates nothing twice: container names are deterministic.
"""

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Literal

from controlplane.contract.overlay import VNI_LABEL, OverlaySpec, OverlayState
from controlplane.contract.schemas import (
    ContainerSpec,
    ContainerState,
    LinkTarget,
    NetworkSpec,
    NetworkState,
)
from controlplane.contract.weave import AttachSpec


@dataclass(frozen=True)
class DesiredNetwork:
    """A network as the database says it should be on the host."""

    id: int
    name: str
    spec: NetworkSpec


@dataclass(frozen=True)
class DesiredOverlay:
    """An overlay network as this host's part of it should be."""

    id: int
    name: str
    spec: OverlaySpec
    # The host's own addresses on it (`weave expose`), without prefix.
    exposed: tuple[str, ...] = ()


@dataclass(frozen=True)
class DesiredContainer:
    """A container as the database says it should be, with its current link set."""

    id: int
    name: str
    spec: ContainerSpec
    # The link set last pushed to the agent (None: unknown, push it).
    applied_links: list[LinkTarget] | None = None
    # Restarts asked for (POST .../restart bumps it) and the last one carried out.
    restart_generation: int = 0
    restarted: int = 0


@dataclass(frozen=True)
class EnsureNetwork:
    """Create the network, or reconfigure it."""

    id: int
    name: str
    spec: NetworkSpec
    verb: Literal["create", "update"]
    kind: str = "network"


@dataclass(frozen=True)
class RemoveNetwork:
    """Remove a weft network of this control plane that is no longer desired."""

    name: str
    id: int | None = None
    kind: str = "network"
    verb: str = "remove"


@dataclass(frozen=True)
class EnsureOverlay:
    """Create this host's part of an overlay, or bring its peers, range or VTEP up to date."""

    id: int
    name: str
    spec: OverlaySpec
    verb: Literal["create", "update"]
    kind: str = "network"


@dataclass(frozen=True)
class RemoveOverlay:
    """Remove an overlay of this control plane that no longer spans this host."""

    name: str
    id: int | None = None
    kind: str = "network"
    verb: str = "remove"


@dataclass(frozen=True)
class EnsureContainer:
    """Create, recreate (spec hash changed) or start (created, never started) a container."""

    id: int
    name: str
    spec: ContainerSpec
    verb: Literal["create", "recreate", "start"]
    kind: str = "container"


@dataclass(frozen=True)
class RestartContainer:
    """Restart a container in place (docker restart: same container, links re-applied)."""

    id: int
    name: str
    generation: int
    kind: str = "container"
    verb: str = "restart"


@dataclass(frozen=True)
class RemoveContainer:
    """Remove a weft container of this control plane that is no longer desired."""

    name: str
    id: int | None = None
    kind: str = "container"
    verb: str = "remove"


@dataclass(frozen=True)
class SetLinks:
    """Push a container's link set (hosts block and links.env) without recreating it."""

    id: int
    name: str
    links: list[LinkTarget]
    kind: str = "container"
    verb: str = "links"


@dataclass(frozen=True)
class AttachContainer:
    """Put the container on an overlay, or fix its address or aliases there (no restart)."""

    id: int
    name: str
    network: str
    attach: AttachSpec
    kind: str = "container"
    verb: str = "attach"


@dataclass(frozen=True)
class DetachContainer:
    """Take the container off an overlay it is no longer meant to be on (no restart)."""

    id: int
    name: str
    network: str
    kind: str = "container"
    verb: str = "detach"


@dataclass(frozen=True)
class ExposeHost:
    """Give the host an address of its own on the overlay (`weave expose`)."""

    id: int
    name: str
    address: str
    kind: str = "network"
    verb: str = "expose"


@dataclass(frozen=True)
class HideHost:
    """Take back an address the host holds on the overlay and should not (`weave hide`)."""

    id: int
    name: str
    address: str
    kind: str = "network"
    verb: str = "hide"


Action = (
    EnsureNetwork
    | RemoveNetwork
    | EnsureOverlay
    | RemoveOverlay
    | EnsureContainer
    | RestartContainer
    | RemoveContainer
    | SetLinks
    | AttachContainer
    | DetachContainer
    | ExposeHost
    | HideHost
)


@dataclass
class Plan:
    """Actions in the order they must run."""

    actions: list[Action] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        """True when the host already matches the desired state."""
        return not self.actions

    def for_resource(self, kind: str, rid: int) -> list[Action]:
        """The actions that touch one resource."""
        return [a for a in self.actions if a.kind == kind and getattr(a, "id", None) == rid]


def _network_differs(spec: NetworkSpec, seen: NetworkState) -> bool:
    if spec.subnet != seen.subnet:
        return True
    return spec.gateway is not None and spec.gateway != seen.gateway


def _overlay_differs(spec: OverlaySpec, seen: OverlayState) -> bool:
    net = seen.network
    return (
        spec.vni != seen.vni
        or spec.local != seen.local
        or sorted(p.address for p in spec.peers) != sorted(seen.peers)
        or (spec.mtu is not None and spec.mtu != seen.mtu)
        or (spec.subnet, spec.gateway, spec.ip_range) != (net.subnet, net.gateway, net.ip_range)
    )


def _mode_order(c: DesiredContainer) -> tuple[int, str]:
    # container:<x> needs x to exist first; everything else in name order.
    return (1 if c.spec.network_mode.startswith("container:") else 0, c.name)


def _joined_a_gone_namespace(
    ctr: DesiredContainer, seen: ContainerState, seen_ctr: dict[str, ContainerState]
) -> bool:
    # The engine pins container:X to X's id: once X is recreated, a container that
    # joined the old X sits in a namespace nobody owns until it is recreated too.
    mode = ctr.spec.network_mode
    if not mode.startswith("container:") or not seen.network_mode:
        return False
    owner = seen_ctr.get(mode.split(":", 1)[1])
    if owner is None:
        return False
    return seen.network_mode not in (f"container:{owner.id}", f"container:{owner.name}")


def _endpoint_current(seen: ContainerState, network: str, address: str, aliases: list[str]) -> bool:
    ep = seen.networks.get(network)
    if ep is None:
        return False
    # Docker adds the container's short id as an alias of its own.
    if set(ep.aliases) - {seen.id[:12]} != set(aliases):
        return False
    # A stopped container has no address until it starts (at the one it was given).
    return not seen.running or ep.ip_address == address


def _awaits_address(ctr: DesiredContainer, overlays: Collection[str]) -> bool:
    """An overlay attachment without its IPAM address: Docker must never pick one itself."""
    return any(a.name in overlays and a.ipv4_address is None for a in ctr.spec.networks)


def membership(
    ctr: DesiredContainer, seen: ContainerState, overlays: Collection[str]
) -> list[AttachContainer | DetachContainer]:
    """Attach/detach actions that bring the container's overlays to the spec's (`weave attach`).

    Only for a container whose spec hash matches (the hash leaves overlays out): any
    other difference recreates it.
    """
    if ctr.spec.network_mode != "bridge":
        return []
    wanted = {a.name: a for a in ctr.spec.networks if a.name in overlays}
    out: list[AttachContainer | DetachContainer] = []
    for name in sorted(wanted):
        att = wanted[name]
        if att.ipv4_address is None:  # see _awaits_address
            continue
        if not _endpoint_current(seen, name, att.ipv4_address, att.aliases):
            spec = AttachSpec(ipv4_address=att.ipv4_address, aliases=att.aliases)
            out.append(AttachContainer(ctr.id, ctr.name, name, spec))
    for name in sorted((set(seen.networks) & set(overlays)) - set(wanted)):
        out.append(DetachContainer(ctr.id, ctr.name, name))
    return out


def plan(
    networks: Sequence[DesiredNetwork],
    containers: Sequence[DesiredContainer],
    seen_networks: Sequence[NetworkState],
    seen_containers: Sequence[ContainerState],
    overlays: Sequence[DesiredOverlay] = (),
    seen_overlays: Sequence[OverlayState] = (),
) -> Plan:
    """Plan one host: `seen_*` are what the agent lists as owned by this control plane.

    Overlays are networks too (they carry the VNI label); they are planned from
    the agent's overlay list, which also shows their VXLAN device and peers.
    A container whose overlays alone differ (its hash leaves them out) is attached
    or detached in place rather than recreated.
    """
    out = Plan()
    seen_net = {n.name: n for n in seen_networks if VNI_LABEL not in n.labels}
    seen_ovl = {o.name: o for o in seen_overlays}
    seen_ctr = {c.name: c for c in seen_containers}
    overlay_names = {o.name for o in overlays} | set(seen_ovl)
    wanted_nets = {n.name for n in networks}
    wanted_ctrs = {c.name for c in containers}

    for net in sorted(networks, key=lambda n: n.name):
        seen = seen_net.get(net.name)
        if seen is None:
            out.actions.append(EnsureNetwork(net.id, net.name, net.spec, "create"))
        elif _network_differs(net.spec, seen):
            out.actions.append(EnsureNetwork(net.id, net.name, net.spec, "update"))
    for ovl in sorted(overlays, key=lambda o: o.name):
        known = seen_ovl.get(ovl.name)
        if known is None:
            out.actions.append(EnsureOverlay(ovl.id, ovl.name, ovl.spec, "create"))
        elif _overlay_differs(ovl.spec, known):
            out.actions.append(EnsureOverlay(ovl.id, ovl.name, ovl.spec, "update"))
        held = {a.split("/")[0] for a in known.exposed} if known else set()
        for address in sorted(set(ovl.exposed) - held):
            out.actions.append(ExposeHost(ovl.id, ovl.name, address))
        for address in sorted(held - set(ovl.exposed)):
            out.actions.append(HideHost(ovl.id, ovl.name, address))

    # Strays go before creates: a stray may hold a port or fixed address a new one needs.
    for name in sorted(set(seen_ctr) - wanted_ctrs):
        out.actions.append(RemoveContainer(name))

    for ctr in sorted(containers, key=_mode_order):
        current = seen_ctr.get(ctr.name)
        if _awaits_address(ctr, overlay_names):
            # Written after this pass read the IPAM: the next round has its address.
            continue
        if current is None:
            out.actions.append(EnsureContainer(ctr.id, ctr.name, ctr.spec, "create"))
        elif current.spec_hash != ctr.spec.computed_hash():
            out.actions.append(EnsureContainer(ctr.id, ctr.name, ctr.spec, "recreate"))
        elif _joined_a_gone_namespace(ctr, current, seen_ctr):
            # Same spec: the agent's ensure sees the stale namespace and recreates.
            out.actions.append(EnsureContainer(ctr.id, ctr.name, ctr.spec, "recreate"))
        elif current.status == "created":
            out.actions.append(EnsureContainer(ctr.id, ctr.name, ctr.spec, "start"))
        elif moves := membership(ctr, current, overlay_names):
            out.actions.extend(moves)
        elif ctr.restart_generation > ctr.restarted:
            out.actions.append(RestartContainer(ctr.id, ctr.name, ctr.restart_generation))
        elif ctr.applied_links != ctr.spec.links:
            # A freshly ensured container got its links in the spec; only a running
            # one whose targets moved needs a push.
            out.actions.append(SetLinks(ctr.id, ctr.name, ctr.spec.links))

    for name in sorted(set(seen_net) - wanted_nets):
        out.actions.append(RemoveNetwork(name))
    for name in sorted(set(seen_ovl) - {o.name for o in overlays}):
        out.actions.append(RemoveOverlay(name))
    return out
