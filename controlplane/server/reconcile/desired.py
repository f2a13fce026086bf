"""Pure translation of database rows into the agent's specs (the planner's input).

`container_spec` is the one mapping from what a user asked for (the API's
`ContainerSpec`) to what the agent is sent (the wire's `agent.ContainerSpec`):
the two differ on purpose (the wire adds weft's labels and the link set, and
keeps its own stability rules), and nothing else converts between them.
"""

from collections.abc import Collection, Sequence
from dataclasses import replace

from controlplane.contract import labels
from controlplane.contract import schemas as agent
from controlplane.contract.apitypes import BoundPort, HealthCheck, parse_port
from controlplane.server.models import Container, Link, Network, ObservedRecord
from controlplane.server.reconcile.linkplan import LinkWorld, link_address, link_target
from controlplane.server.reconcile.planner import DesiredContainer, DesiredNetwork


def network_spec(net: Network, owner: str) -> agent.NetworkSpec:
    """The agent spec of a weft bridge network."""
    tags = {**net.labels, labels.OWNER: owner, labels.NETWORK_ID: str(net.id)}
    return agent.NetworkSpec(subnet=net.subnet, gateway=net.gateway, labels=tags)


def _healthcheck(check: HealthCheck | None) -> agent.HealthCheck | None:
    if check is None:
        return None
    return agent.HealthCheck(
        test=check.test,
        interval_s=check.interval_s,
        timeout_s=check.timeout_s,
        retries=check.retries,
        start_period_s=check.start_period_s,
    )


def container_spec(
    row: Container, owner: str, links: list[agent.LinkTarget]
) -> agent.ContainerSpec:
    """The agent spec of a container; labels tie it to this control plane and row."""
    spec = row.spec
    return agent.ContainerSpec(
        image=spec.image,
        command=spec.command,
        entrypoint=spec.entrypoint,
        env=spec.env,
        labels={**spec.labels, labels.OWNER: owner, labels.CONTAINER_ID: str(row.id)},
        exposed_ports=[
            agent.PortSpec(port=port, protocol=proto)
            for port, proto in map(parse_port, spec.exposed_ports)
        ],
        published_ports=[
            agent.PublishedPort(
                container_port=p.container_port,
                protocol=p.protocol,
                host_ip="" if p.host_ip == "0.0.0.0" else p.host_ip,
                host_port=p.host_port,
            )
            for p in spec.ports
        ],
        networks=[
            agent.NetworkAttachment(name=a.network, aliases=a.aliases, ipv4_address=a.ipv4_address)
            for a in spec.networks
        ],
        network_mode=spec.network_mode,
        restart_policy=agent.RestartPolicy(
            name=spec.restart_policy.name,
            maximum_retry_count=spec.restart_policy.maximum_retry_count,
        ),
        healthcheck=_healthcheck(spec.healthcheck),
        dns=spec.dns,
        dns_search=spec.dns_search,
        hostname=spec.hostname,
        stop_timeout_s=spec.stop_timeout_s,
        mounts=[
            agent.Mount(type="volume", source=v.volume, target=v.target, read_only=v.read_only)
            for v in spec.volumes
        ],
        links=links,
    )


def links_of(row: Container, links: Sequence[Link], world: LinkWorld) -> list[agent.LinkTarget]:
    """The link set of `row`, addresses from the last observed state (by network mode)."""
    out = []
    for link in sorted(links, key=lambda k: k.alias):
        to = world.containers.get(link.to_id)
        if link.from_id != row.id or to is None:
            continue
        address = link_address(row, to, world)
        out.append(link_target(link.alias, to.name, to.spec, address))
    return out


def desired_state(
    networks: Sequence[Network],
    host_containers: Sequence[Container],
    links: Sequence[Link],
    world: LinkWorld,
    owner: str,
) -> tuple[list[DesiredNetwork], list[DesiredContainer]]:
    """Everything one host should run, in the planner's terms."""
    nets = [DesiredNetwork(n.id or 0, n.name, network_spec(n, owner)) for n in networks]
    containers = [
        DesiredContainer(
            c.id or 0,
            c.name,
            container_spec(c, owner, links_of(c, links, world)),
            c.observed.links,
            c.restart_generation,
            c.observed.restarted,
        )
        for c in host_containers
    ]
    return nets, containers


def overlay_free_hash(ctr: DesiredContainer, overlays: Collection[str]) -> DesiredContainer:
    """The container with its spec hash pinned to the spec less its overlay attachments.

    Joining or leaving an overlay is then no new container: the planner attaches or
    detaches it in place (`planner.membership`). Call it before the overlays' addresses
    and resolver are filled in (`overlays.on_overlays`), which the hash leaves out too.
    A container on no overlay keeps the hash it always had.
    """
    spec = ctr.spec
    kept = [a for a in spec.networks if a.name not in overlays]
    pinned = spec.model_copy(update={"networks": kept}).computed_hash()
    return replace(ctr, spec=spec.model_copy(update={"spec_hash": pinned}))


def observed_record(state: agent.ContainerState, previous: ObservedRecord) -> ObservedRecord:
    """What to store as a container's `observed` (keeps what was last applied)."""
    return ObservedRecord(
        state=state.status,
        health=None if state.health == "none" else state.health,
        exit_code=state.exit_code,
        docker_id=state.id,
        addresses={n: ep.ip_address for n, ep in state.networks.items() if ep.ip_address},
        # The host as the container sees it (links to host-mode targets use it).
        gateways={n: ep.gateway for n, ep in state.networks.items() if ep.gateway},
        spec_hash=state.spec_hash,
        ports=[
            BoundPort(
                container_port=p.container_port,
                protocol=p.protocol,
                host_ip=p.host_ip,
                host_port=p.host_port,
            )
            for p in state.ports
        ],
        links=previous.links,
        restarted=previous.restarted,
    )
