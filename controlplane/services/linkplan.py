"""Pure link planning: which address `alias` resolves to, and Docker's link env vars."""

import re
from collections.abc import Mapping, Sequence

from controlplane.agent.schemas import LinkTarget, PortSpec
from controlplane.models.containers import ContainerSpec, parse_port


def env_prefix(alias: str) -> str:
    """Docker's env name for an alias: upper case, anything else than [A-Z0-9] -> '_'."""
    return re.sub(r"[^A-Z0-9]", "_", alias.upper())


def link_env(
    alias: str, from_name: str, to_name: str, address: str | None, ports: Sequence[PortSpec]
) -> dict[str, str]:
    """The env vars `docker run --link to:alias` sets inside `from` (empty without an address)."""
    if address is None:
        return {}
    p = env_prefix(alias)
    env = {f"{p}_NAME": f"/{from_name}/{alias}"}
    ordered = sorted(ports, key=lambda s: (s.port, s.protocol))
    for port in ordered:
        key = f"{p}_PORT_{port.port}_{port.protocol.upper()}"
        env[key] = f"{port.protocol}://{address}:{port.port}"
        env[f"{key}_ADDR"] = address
        env[f"{key}_PORT"] = str(port.port)
        env[f"{key}_PROTO"] = port.protocol
    if ordered:
        env[f"{p}_PORT"] = f"{ordered[0].protocol}://{address}:{ordered[0].port}"
    return env


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
