"""Pure translation of database rows into the agent's specs (the planner's input)."""

from collections.abc import Mapping, Sequence

from controlplane.contract import labels as L
from controlplane.contract import schemas as A
from controlplane.server.models import Container, Link, Network
from controlplane.server.models.containers import parse_port
from controlplane.server.reconcile.linkplan import LinkWorld, link_address, link_target
from controlplane.server.reconcile.planner import DesiredContainer, DesiredNetwork


def network_spec(net: Network, owner: str) -> A.NetworkSpec:
    """The agent spec of a weft bridge network."""
    labels = {**net.labels, L.OWNER: owner, L.NETWORK_ID: str(net.id)}
    return A.NetworkSpec(subnet=net.subnet, gateway=net.gateway, labels=labels)


def container_spec(row: Container, owner: str, links: list[A.LinkTarget]) -> A.ContainerSpec:
    """The agent spec of a container; labels tie it to this control plane and row."""
    spec = row.container_spec()
    labels = {**spec.labels, L.OWNER: owner, L.CONTAINER_ID: str(row.id)}
    exposed = []
    for item in spec.exposed_ports:
        port, proto = parse_port(item)
        exposed.append(A.PortSpec(port=port, protocol=proto))
    return A.ContainerSpec(
        image=spec.image,
        command=spec.command,
        entrypoint=spec.entrypoint,
        env=spec.env,
        labels=labels,
        exposed_ports=exposed,
        published_ports=[
            A.PublishedPort(
                container_port=p.container_port,
                protocol=p.protocol,
                host_ip="" if p.host_ip == "0.0.0.0" else p.host_ip,
                host_port=p.host_port,
            )
            for p in spec.ports
        ],
        networks=[
            A.NetworkAttachment(name=a.network, aliases=a.aliases, ipv4_address=a.ipv4_address)
            for a in spec.networks
        ],
        network_mode=spec.network_mode,
        restart_policy=A.RestartPolicy(**spec.restart_policy.model_dump()),
        healthcheck=A.HealthCheck(**spec.healthcheck.model_dump()) if spec.healthcheck else None,
        dns=spec.dns,
        dns_search=spec.dns_search,
        hostname=spec.hostname,
        stop_timeout_s=spec.stop_timeout_s,
        links=links,
    )


def links_of(row: Container, links: Sequence[Link], world: LinkWorld) -> list[A.LinkTarget]:
    """The link set of `row`, addresses from the last observed state (by network mode)."""
    out = []
    for link in sorted(links, key=lambda k: k.alias):
        to = world.containers.get(link.to_id)
        if link.from_id != row.id or to is None:
            continue
        address = link_address(row, to, world)
        out.append(link_target(link.alias, to.name, to.container_spec(), address))
    return out


def applied_links(row: Container) -> list[A.LinkTarget] | None:
    """The link set last pushed for `row` (None if never)."""
    raw = row.observed.get("links")
    if raw is None:
        return None
    return [A.LinkTarget.model_validate(x) for x in raw]


def desired_state(
    networks: Sequence[Network],
    host_containers: Sequence[Container],
    links: Sequence[Link],
    world: LinkWorld,
    owner: str,
) -> tuple[list[DesiredNetwork], list[DesiredContainer]]:
    """Everything one host should run, in the planner's terms."""
    nets = [DesiredNetwork(n.id or 0, n.name, network_spec(n, owner)) for n in networks]
    ctrs = [
        DesiredContainer(
            c.id or 0,
            c.name,
            container_spec(c, owner, links_of(c, links, world)),
            applied_links(c),
            c.restart_generation,
            int(c.observed.get("restarted") or 0),
        )
        for c in host_containers
    ]
    return nets, ctrs


def observed_record(state: A.ContainerState, previous: Mapping[str, object]) -> dict[str, object]:
    """What to store as a container's `observed` JSON (keeps what was last applied)."""
    record: dict[str, object] = {
        "state": state.status,
        "health": None if state.health == "none" else state.health,
        "exit_code": state.exit_code,
        "docker_id": state.id,
        "addresses": {n: ep.ip_address for n, ep in state.networks.items() if ep.ip_address},
        # The host as the container sees it (links to host-mode targets use it).
        "gateways": {n: ep.gateway for n, ep in state.networks.items() if ep.gateway},
        "spec_hash": state.spec_hash,
        "ports": [p.model_dump() for p in state.ports],
    }
    for key in ("links", "restarted"):
        if key in previous:
            record[key] = previous[key]
    return record
