"""Placement: which host runs each replica of each service. Pure: state in, plan out.

Rules, in order: only ready hosts; every constraint of the service holds on the
host; replicas that publish a fixed host port go one per host; a replica stays
where it already runs if that host is still eligible (an update does not
reshuffle a stack); otherwise it goes to the eligible host with
the fewest replicas of this service, then the fewest containers of the stack so
far, then the name (so the answer is deterministic). Global services get one
replica per eligible host. A service in `network_mode: service:X` goes where X is.

When no host fits, the error says which constraints ruled out which hosts.
"""

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from controlplane.stacks.graph import waves
from controlplane.stacks.problems import Collector, ComposeInvalid
from controlplane.stacks.spec import ServiceSpec, StackSpec

# service name -> host name of each replica, by replica index
Placement = dict[str, tuple[str, ...]]


@dataclass(frozen=True)
class HostView:
    """What placement needs to know of a host."""

    name: str
    labels: Mapping[str, str] = field(default_factory=dict)
    ready: bool = True


def place(
    stack: StackSpec,
    hosts: Sequence[HostView],
    previous: Mapping[str, Sequence[str]] | None = None,
) -> Placement:
    """Place every replica; raises ComposeInvalid(unplaceable=True) naming what did not fit."""
    previous = previous or {}
    c = Collector()
    load: Counter[str] = Counter()
    out: Placement = {}
    for wave in waves(stack):
        for name in wave:
            svc = stack.services[name]
            eligible = [h for h in hosts if h.ready and _fits(svc, h)]
            why = None
            if svc.is_namespace_guest():
                chosen, why = _guest(svc, out, eligible)
            elif svc.global_mode:
                chosen = tuple(sorted(h.name for h in eligible))
            else:
                chosen = _spread(svc, eligible, previous.get(name, ()), load)
            if not chosen and (svc.global_mode or svc.replicas > 0):
                c.add(("services", name, "deploy", "placement"), why or _why_not(svc, hosts))
            out[name] = chosen
            load.update(chosen)
    if c.problems:
        raise ComposeInvalid(c.problems, unplaceable=True)
    return out


def _fits(svc: ServiceSpec, host: HostView) -> bool:
    return all(con.matches(host.name, dict(host.labels)) for con in svc.constraints)


def _spread(
    svc: ServiceSpec, eligible: list[HostView], before: Sequence[str], load: Counter[str]
) -> tuple[str, ...]:
    names = {h.name for h in eligible}
    # A fixed published port can be bound once per host: one replica each.
    per_host = 1 if any(p.published is not None for p in svc.ports) else svc.replicas
    if not names or len(names) * per_host < svc.replicas:
        return ()
    mine: Counter[str] = Counter()
    chosen: list[str] = []
    for i in range(svc.replicas):
        if i < len(before) and before[i] in names and mine[before[i]] < per_host:
            host = before[i]
        else:
            free = [n for n in names if mine[n] < per_host]
            host = min(free, key=lambda n: (mine[n], load[n], n))
        mine[host] += 1
        chosen.append(host)
    return tuple(chosen)


def _guest(
    svc: ServiceSpec, placed: Placement, eligible: list[HostView]
) -> tuple[tuple[str, ...], str | None]:
    """The owner's host, or why not."""
    owner = svc.shares_namespace_with() or ""
    where = placed.get(owner, ())
    if not where:
        return (), f"shares the network of {owner!r}, which could not be placed"
    if where[0] not in {h.name for h in eligible}:
        why = f"shares the network of {owner!r} on {where[0]}, where its constraints do not hold"
        return (), why
    return (where[0],), None


def _why_not(svc: ServiceSpec, hosts: Sequence[HostView]) -> str:
    if not hosts:
        return "no hosts are registered"
    fits = [h.name for h in hosts if h.ready and _fits(svc, h)]
    if fits and any(p.published is not None for p in svc.ports):
        return (
            f"{svc.replicas} replicas publish a fixed host port, one per host, but only "
            f"{len(fits)} eligible host(s) are ready: {', '.join(sorted(fits))}"
        )
    ready = [h for h in hosts if h.ready]
    if not ready:
        return "no host is ready: " + ", ".join(f"{h.name} (not ready)" for h in hosts)
    reasons = []
    for h in ready:
        failed = [str(con) for con in svc.constraints if not con.matches(h.name, dict(h.labels))]
        reasons.append(f"{h.name}: {', '.join(failed)}")
    not_ready = [h.name for h in hosts if not h.ready]
    tail = f"; not ready: {', '.join(not_ready)}" if not_ready else ""
    return "no host satisfies the constraints (" + "; ".join(reasons) + ")" + tail


def network_drivers(stack: StackSpec, placement: Mapping[str, Sequence[str]]) -> dict[str, str]:
    """Each network's driver: as given, else overlay when its services span hosts.

    A network given as `bridge` whose services land on several hosts is refused:
    a bridge cannot reach across hosts.
    """
    c = Collector()
    out: dict[str, str] = {}
    for net_name, net in stack.networks.items():
        spans = {
            host
            for svc in stack.services.values()
            if any(a.network == net_name for a in svc.networks)
            for host in placement.get(svc.name, ())
        }
        if net.driver == "bridge" and len(spans) > 1:
            c.add(
                ("networks", net_name, "driver"),
                f"a bridge network cannot span hosts ({', '.join(sorted(spans))}): use overlay",
            )
        out[net_name] = net.driver or ("overlay" if len(spans) > 1 or net.encrypted else "bridge")
    if c.problems:
        raise ComposeInvalid(c.problems, unplaceable=True)
    return out
