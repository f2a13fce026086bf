"""Pure link planning: the link set of a container, with `to`'s address as `from` sees it.

Where `to` is reached, by its network mode (the stack owner is the container whose
network namespace a container uses: itself, or X for `container:X`, followed):
- bridge: its address on a network `from` shares, else any of its addresses;
- `container:X`: X's address (it shares X's network stack);
- host, on `from`'s host: the gateway of `from`'s network (a host-mode process
  listens on the host's interfaces, and the gateway is the host's address on that
  bridge), or 127.0.0.1 when `from` is in host mode too;
- host, on another host: that host's first underlay address (from its agent's info);
- none: no address.

The env vars themselves are rendered by `controlplane.contract.linkfiles.link_env`, the
same function the agent writes links.env with.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from controlplane.contract.schemas import LinkTarget, PortSpec
from controlplane.server.models import Container, ContainerSpec, Host, Network

LOOPBACK = "127.0.0.1"
# container:X chains longer than this are taken as a cycle (Docker refuses them anyway).
MAX_SHARED_HOPS = 8


def exposed_port_specs(spec: ContainerSpec) -> list[PortSpec]:
    """The target's exposed ports (published ones included) as agent PortSpecs."""
    return [PortSpec(port=port, protocol=proto) for port, proto in spec.all_exposed()]


def target_address(source_spec: ContainerSpec, to_addresses: Mapping[str, str]) -> str | None:
    """`to`'s address as the source should see it: on a shared network first, else any."""
    if not to_addresses:
        return None
    for net in source_spec.attached_networks():
        if to_addresses.get(net):
            return to_addresses[net]
    for net in sorted(to_addresses):
        if to_addresses[net]:
            return to_addresses[net]
    return None


def link_target(
    alias: str, to_name: str, to_spec: ContainerSpec, address: str | None
) -> LinkTarget:
    """The agent's view of one link."""
    return LinkTarget(alias=alias, name=to_name, address=address, ports=exposed_port_specs(to_spec))


@dataclass(frozen=True)
class LinkWorld:
    """What a link's address depends on besides its two ends (all pure data)."""

    # Every container by id (targets may be on other hosts).
    containers: Mapping[int, Container]
    # Host id -> the underlay addresses its agent reports.
    host_addresses: Mapping[int, Sequence[str]] = field(default_factory=dict)
    # (host id, network name) -> gateway, for the weft networks in the database.
    gateways: Mapping[tuple[int, str], str] = field(default_factory=dict)

    @classmethod
    def of(
        cls,
        containers: Iterable[Container],
        hosts: Iterable[Host] = (),
        networks: Iterable[Network] = (),
    ) -> "LinkWorld":
        """Build from database rows."""
        return cls(
            containers={c.id or 0: c for c in containers},
            host_addresses={h.id or 0: list(h.addresses) for h in hosts},
            gateways={(n.host_id, n.name): n.gateway for n in networks if n.gateway},
        )

    def stack_owner(self, row: Container) -> Container | None:
        """The container whose network stack `row` uses (None: X of container:X unknown)."""
        current = row
        for _ in range(MAX_SHARED_HOPS):
            name = current.spec.shared_stack()
            if name is None:
                return current
            owner = next(
                (
                    c
                    for c in self.containers.values()
                    if c.host_id == current.host_id and c.name == name
                ),
                None,
            )
            if owner is None:
                return None
            current = owner
        return None

    def gateway_of(self, row: Container) -> str | None:
        """The gateway of `row`'s first network that has one: the host as `row` sees it."""
        for net in row.spec.attached_networks():
            gateway = row.observed.gateways.get(net) or self.gateways.get((row.host_id, net))
            # Not running yet, on Docker's default bridge: a neighbour saw its gateway.
            gateway = gateway or next(
                (
                    c.observed.gateways[net]
                    for c in self.containers.values()
                    if c.host_id == row.host_id and c.observed.gateways.get(net)
                ),
                None,
            )
            if gateway:
                return gateway
        return None


def link_address(source: Container, to: Container, world: LinkWorld) -> str | None:
    """`to`'s address as `source` (the link's `from`) reaches it, by both ends' network
    modes (module doc)."""
    src, dst = world.stack_owner(source), world.stack_owner(to)
    if src is None or dst is None:
        return None
    src_mode, dst_mode = src.spec.network_mode, dst.spec.network_mode
    if dst_mode == "none" or src_mode == "none":
        return None
    if dst_mode == "host":
        if dst.host_id != src.host_id:
            addresses = world.host_addresses.get(dst.host_id) or []
            return addresses[0] if addresses else None
        return LOOPBACK if src_mode == "host" else world.gateway_of(src)
    return target_address(src.spec, dst.observed.addresses)
