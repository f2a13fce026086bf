"""Checks across services: references that point at nothing, and `depends_on` cycles.

Also the start order: services grouped in waves, each wave depending only on
earlier ones, so a deploy can start a wave once the one before is ready.
"""

from controlplane.stacks.problems import Collector
from controlplane.stacks.spec import StackSpec


def check_references(stack: StackSpec, c: Collector) -> None:
    """Every depends_on, link, network, volume and service: name must exist."""
    for name, svc in stack.services.items():
        for dep in svc.depends_on:
            if dep not in stack.services:
                c.add(("services", name, "depends_on", dep), f"no service named {dep!r}")
        for i, link in enumerate(svc.links):
            if link.service not in stack.services:
                c.add(("services", name, "links", i), f"no service named {link.service!r}")
        for att in svc.networks:
            if att.network not in stack.networks:
                c.add(("services", name, "networks", att.network), "not a network of the stack")
        for i, mount in enumerate(svc.volumes):
            if mount.volume not in stack.volumes:
                c.add(("services", name, "volumes", i), f"no volume named {mount.volume!r}")
        host = svc.shares_namespace_with()
        if host is not None:
            loc = ("services", name, "network_mode")
            other = stack.services.get(host)
            if other is None:
                c.add(loc, f"no service named {host!r}")
            elif other.replicas != 1 or other.global_mode or other.is_namespace_guest():
                c.add(loc, f"{host!r} must be a single-replica service with its own network")
            elif svc.global_mode or svc.replicas > 1:
                c.add(loc, "a service sharing another's network namespace runs one replica")


def check_cycles(stack: StackSpec, c: Collector) -> None:
    """Report each depends_on cycle once, as the chain of services that forms it."""
    state: dict[str, int] = {}  # 1: on the current path, 2: finished
    reported: set[frozenset[str]] = set()

    def visit(name: str, path: list[str]) -> None:
        state[name] = 1
        path.append(name)
        for dep in stack.services[name].depends_on:
            if dep not in stack.services:
                continue
            if state.get(dep) == 1:
                cycle = [*path[path.index(dep) :], dep]
                if frozenset(cycle) not in reported:
                    reported.add(frozenset(cycle))
                    c.add(("services", name, "depends_on", dep), "cycle: " + " → ".join(cycle))
            elif dep not in state:
                visit(dep, path)
        path.pop()
        state[name] = 2

    for name in sorted(stack.services):
        if name not in state:
            visit(name, [])


def waves(stack: StackSpec) -> list[list[str]]:
    """Services in start order: each wave's dependencies are all in earlier waves.

    Namespace guests (`network_mode: service:X`) come after X too. Assumes the
    checks above passed (no cycles, no unknown names).
    """
    needs: dict[str, set[str]] = {}
    for name, svc in stack.services.items():
        host = svc.shares_namespace_with()
        needs[name] = set(svc.depends_on) | ({host} if host else set())
    done: set[str] = set()
    out: list[list[str]] = []
    while len(done) < len(needs):
        wave = sorted(n for n, deps in needs.items() if n not in done and deps <= done)
        if not wave:
            raise ValueError("depends_on has a cycle")  # check_cycles reports it first
        out.append(wave)
        done.update(wave)
    return out
