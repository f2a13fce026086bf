"""Pure link planning: the link set of a container, with `to`'s address as `from` sees it.

The env vars themselves are rendered by `controlplane.agent.linkfiles.link_env`, the
same function the agent writes links.env with.
"""

from collections.abc import Mapping

from controlplane.agent.schemas import LinkTarget, PortSpec
from controlplane.models.containers import ContainerSpec, parse_port


def exposed_port_specs(spec: ContainerSpec) -> list[PortSpec]:
    """The target's exposed ports (published ones included) as agent PortSpecs."""
    out = []
    for item in spec.all_exposed():
        port, proto = parse_port(item)
        out.append(PortSpec(port=port, protocol=proto))
    return out


def attached_networks(spec: ContainerSpec) -> list[str]:
    """Docker network names a container sits on ("bridge" for the default bridge)."""
    if spec.networks:
        return [a.network for a in spec.networks]
    return ["bridge"] if spec.network_mode == "bridge" else []


def target_address(from_spec: ContainerSpec, to_addresses: Mapping[str, str] | None) -> str | None:
    """`to`'s address as `from` should see it: on a shared network first, else any."""
    if not to_addresses:
        return None
    for net in attached_networks(from_spec):
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
