"""A placed stack as weft resources: networks per host, containers per replica, links.

Pure: the stack, where each replica goes and each network's driver in; the
`/networks`, `/containers` and `/links` the control plane should hold out. Names
follow Docker Compose (`<stack>_<network>`, `<stack>-<service>-<n>`), and every
container carries the stack, service and replica labels, so `docker ps
--filter label=weft.stack=world` finds them on the host.
"""

import ipaddress
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from controlplane.contract import labels
from controlplane.contract.apitypes import (
    ContainerSpec,
    HealthCheck,
    NetworkAttachment,
    PortBinding,
    RestartPolicy,
    VolumeMount,
)
from controlplane.stacks.spec import ServiceSpec, StackSpec

# Where stack networks without an `ipam` subnet get theirs: /24s of this range.
STACK_POOL = ipaddress.IPv4Network("10.210.0.0/16")


@dataclass(frozen=True)
class DesiredNetwork:
    """One network of the stack on one host."""

    key: str  # its name in the compose file
    host: str
    name: str
    driver: str
    subnet: str | None
    # An overlay between hosts inside WireGuard tunnels (a bridge never leaves its host).
    encrypted: bool = False


@dataclass(frozen=True)
class DesiredContainer:
    """One replica of one service."""

    service: str
    replica: int  # 1-based, as in Compose's container names
    host: str
    name: str
    spec: ContainerSpec


@dataclass(frozen=True)
class DesiredLink:
    """`links: [service:alias]`: from a replica to the target service's first replica."""

    source: str  # container name
    target: str  # container name
    alias: str


def network_name(stack: str, key: str) -> str:
    """Docker's name for a stack network (`world_default`)."""
    return f"{stack}_{key}"


def volume_name(stack: str, key: str) -> str:
    """Docker's name for a stack volume (`world_worlddata`)."""
    return f"{stack}_{key}"


def container_name(stack: str, service: str, replica: int) -> str:
    """Docker's name for a replica (`world-worlddb-1`)."""
    return f"{stack}-{service}-{replica}"


def desired_networks(
    stack: StackSpec, placement: Mapping[str, Sequence[str]], drivers: Mapping[str, str]
) -> list[DesiredNetwork]:
    """Each stack network on each host that runs a service attached to it."""
    out = []
    for key, net in sorted(stack.networks.items()):
        hosts = sorted(
            {
                host
                for svc in stack.services.values()
                if any(a.network == key for a in svc.networks)
                for host in placement.get(svc.name, ())
            }
        )
        name = network_name(stack.name, key)
        driver = drivers.get(key, "bridge")
        out += [
            DesiredNetwork(key, h, name, driver, net.subnet, net.encrypted and driver == "overlay")
            for h in hosts
        ]
    return out


def desired_containers(
    stack: StackSpec, placement: Mapping[str, Sequence[str]]
) -> list[DesiredContainer]:
    """Every replica of every service, with its full container spec."""
    out = []
    for name, svc in sorted(stack.services.items()):
        for i, host in enumerate(placement.get(name, ()), start=1):
            spec = container_spec(stack, svc, i)
            out.append(DesiredContainer(name, i, host, container_name(stack.name, name, i), spec))
    return out


def desired_links(stack: StackSpec, placement: Mapping[str, Sequence[str]]) -> list[DesiredLink]:
    """Every replica's links, each to the first replica of the service it names."""
    out = []
    for name, svc in sorted(stack.services.items()):
        for link in svc.links:
            if not placement.get(link.service):
                continue
            target = container_name(stack.name, link.service, 1)
            for i in range(1, len(placement.get(name, ())) + 1):
                out.append(DesiredLink(container_name(stack.name, name, i), target, link.alias))
    return out


def container_spec(stack: StackSpec, svc: ServiceSpec, replica: int) -> ContainerSpec:
    """The `/containers` spec of one replica of a service."""
    owner = svc.shares_namespace_with()
    mode = f"container:{container_name(stack.name, owner, 1)}" if owner else svc.network_mode
    health = svc.healthcheck
    return ContainerSpec(
        image=svc.image,
        command=list(svc.command) if svc.command is not None else None,
        entrypoint=list(svc.entrypoint) if svc.entrypoint is not None else None,
        env=dict(svc.environment),
        exposed_ports=list(svc.expose),
        ports=[
            PortBinding(
                container_port=p.target,
                protocol=p.protocol,
                host_ip=p.host_ip,
                host_port=p.published,
            )
            for p in svc.ports
        ],
        networks=[
            NetworkAttachment(
                network=network_name(stack.name, a.network),
                aliases=_unique([svc.name, *a.aliases]),
                ipv4_address=a.ipv4_address,
            )
            for a in svc.networks
        ],
        network_mode=mode,
        hostname=svc.hostname,
        restart_policy=RestartPolicy(
            name=svc.restart.name, maximum_retry_count=svc.restart.maximum_retry_count
        ),
        healthcheck=None
        if health is None
        else HealthCheck(
            test=list(health.test),
            interval_s=health.interval_s,
            timeout_s=health.timeout_s,
            retries=health.retries,
            start_period_s=health.start_period_s,
        ),
        labels={
            **svc.labels,
            labels.STACK: stack.name,
            labels.SERVICE: svc.name,
            labels.REPLICA: str(replica),
        },
        dns=list(svc.dns),
        dns_search=list(svc.dns_search),
        volumes=[
            VolumeMount(
                volume=volume_name(stack.name, m.volume), target=m.target, read_only=m.read_only
            )
            for m in svc.volumes
        ],
        **({"stop_timeout_s": svc.stop_timeout_s} if svc.stop_timeout_s is not None else {}),
    )


def free_subnet(taken: Iterable[str], pool: ipaddress.IPv4Network = STACK_POOL) -> str | None:
    """The first /24 of the pool that overlaps none of the taken subnets."""
    used = [ipaddress.ip_network(s) for s in taken]
    for candidate in pool.subnets(new_prefix=24):
        if not any(candidate.overlaps(u) for u in used):
            return str(candidate)
    return None


def _unique(names: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(names))
