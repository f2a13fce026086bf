"""Stacks: compose files checked, placed and recorded; what runs, per service.

A write parses the file, places it on the ready hosts and checks the published
ports before anything is stored, so bad input changes nothing (422 with the path
in the file, 409 when nothing fits or a port is taken, 413 when it is too large).
Then the stack row holds the desired state and the deployer (`stackdeploy`)
brings the hosts there, in depends_on order; `?wait=true` answers once it ended.
"""

import asyncio
import contextlib
import json
import time
from collections.abc import Mapping, Sequence
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from controlplane.contract import labels
from controlplane.contract.apitypes import HostStatus, ResourceStatus
from controlplane.contract.schemas import RUNNING_STATES
from controlplane.server.models import (
    Container,
    EventPublic,
    Host,
    Peering,
    ServiceState,
    Stack,
    StackCreate,
    StackPublic,
    StackStatus,
)
from controlplane.server.models.common import utcnow
from controlplane.server.models.stacks import StackPlacement, StackSource
from controlplane.server.reconcile.meshplan import meshes
from controlplane.server.services.containers import port_clash
from controlplane.server.services.errors import (
    AlreadyExists,
    Conflict,
    DomainError,
    Invalid,
    NotFound,
    TooLarge,
)
from controlplane.server.services.runtime import Runtime
from controlplane.stacks.compose import parse_stack
from controlplane.stacks.desired import desired_containers
from controlplane.stacks.placement import HostView, network_drivers, place
from controlplane.stacks.problems import ComposeInvalid
from controlplane.stacks.spec import StackSpec

SETTLED = (StackStatus.converged, StackStatus.failed)


async def list_stacks(session: AsyncSession) -> list[StackPublic]:
    """Every stack with its services' state."""
    rows = await session.exec(select(Stack).order_by(col(Stack.id)))
    return [await stack_public(session, s) for s in rows]


async def show_stack(session: AsyncSession, name: str) -> StackPublic:
    """The stack with its services' state, or NotFound."""
    return await stack_public(session, await get_stack(session, name))


async def get_stack(session: AsyncSession, name: str) -> Stack:
    """The stack, or NotFound."""
    row = (await session.exec(select(Stack).where(Stack.name == name))).first()
    if row is None:
        raise NotFound(f"no stack {name}")
    return row


async def create_stack(
    session: AsyncSession, rt: Runtime, data: StackCreate, wait: bool
) -> StackPublic:
    """Check, place and record a new stack; the deployer brings it up."""
    spec, source = _parse(data)
    if (await session.exec(select(Stack).where(Stack.name == spec.name))).first():
        raise AlreadyExists(f"a stack named {spec.name} exists", loc=["body", "name"])
    placement = await _place(session, spec, None)
    row = Stack(name=spec.name, source=source, spec=spec, placement=placement)
    session.add(row)
    return await _started(session, rt, row, "deploy", wait)


async def update_stack(
    session: AsyncSession, rt: Runtime, name: str, data: StackCreate, wait: bool
) -> StackPublic:
    """Replace the stack's file; only services whose containers change are recreated."""
    row = await get_stack(session, name)
    if row.status == StackStatus.removing:
        raise Conflict(f"stack {name} is being removed")
    spec, source = _parse(data.model_copy(update={"name": name}))
    row.placement = await _place(session, spec, row)
    row.spec, row.source = spec, source
    row.generation += 1
    row.status, row.status_reason, row.updated_at = StackStatus.deploying, None, utcnow()
    return await _started(session, rt, row, "update", wait)


async def delete_stack(
    session: AsyncSession, rt: Runtime, name: str, volumes: bool, wait: bool
) -> None:
    """Remove the stack's containers, networks (and volumes); the row goes last."""
    row = await get_stack(session, name)
    row.status, row.status_reason, row.updated_at = StackStatus.removing, None, utcnow()
    row.remove_volumes = row.remove_volumes or volumes
    row.generation += 1
    await session.commit()
    await _event(rt, row, "remove", "started")
    rt.stack_wake.set()
    if wait:
        await _wait(rt, row.id or 0, lambda s: s is None)
        # The rows are gone; wait for each host to have removed the containers too.
        hosts = {h.name: h.id for h in await session.exec(select(Host))}
        for name in {h for where in row.placement.services.values() for h in where}:
            if hosts.get(name) is not None:
                await rt.reconcilers.settled(hosts[name] or 0, rt.settings.wait_timeout)


def _parse(data: StackCreate) -> tuple[StackSpec, StackSource]:
    """The file as a spec (ComposeInvalid as 422/413 naming the path in the file)."""
    text = data.compose if isinstance(data.compose, str) else None
    try:
        spec = parse_stack(
            data.compose, name=data.name, env_files=data.env_files, variables=data.variables
        )
    except ComposeInvalid as exc:
        raise compose_error(exc) from None
    if text is None:
        text = json.dumps(data.compose, indent=2)
    return spec, StackSource(compose=text, variables=data.variables, env_files=data.env_files)


def compose_error(exc: ComposeInvalid) -> DomainError:
    """The API's error for a compose file that cannot be deployed."""
    errors = [(["body", "compose", *p.loc], p.msg) for p in exc.problems]
    kind: type[DomainError] = TooLarge if exc.too_large else Invalid
    if exc.unplaceable:
        kind = Conflict
    return kind(exc.summary(), loc=errors[0][0], errors=errors)


async def _place(session: AsyncSession, spec: StackSpec, current: Stack | None) -> StackPlacement:
    """Where each replica goes, and each network's driver; published ports checked free."""
    hosts = list(await session.exec(select(Host).order_by(col(Host.id))))
    views = [HostView(h.name, h.labels, h.status == HostStatus.ready) for h in hosts]
    previous = current.placement.services if current is not None else None
    try:
        placed = place(spec, views, previous)
        drivers = network_drivers(spec, placed)
    except ComposeInvalid as exc:
        raise compose_error(exc) from None
    await _check_overlays(session, spec, placed, drivers, hosts)
    await _check_ports(session, spec, placed, {h.name: h.id or 0 for h in hosts})
    return StackPlacement(services={k: list(v) for k, v in placed.items()}, drivers=drivers)


async def _check_overlays(
    session: AsyncSession,
    spec: StackSpec,
    placed: Mapping[str, Sequence[str]],
    drivers: Mapping[str, str],
    hosts: Sequence[Host],
) -> None:
    """409 when an overlay's hosts are not one mesh."""
    ids = {h.name: h.id or 0 for h in hosts}
    pairs = [(p.host_a_id, p.host_b_id) for p in await session.exec(select(Peering))]
    groups = meshes(ids.values(), pairs)
    for net in sorted(n for n, d in drivers.items() if d == "overlay"):
        loc = ["body", "compose", "networks", net]
        spans = sorted(
            {
                host
                for svc in spec.services.values()
                if any(a.network == net for a in svc.networks)
                for host in placed.get(svc.name, ())
            }
        )
        if spans and not any({ids[h] for h in spans} <= group for group in groups):
            raise Conflict(
                f"network {net} spans hosts {', '.join(spans)}, which are not one mesh: "
                f"peer them first (weft connect {spans[0]} {spans[-1]})",
                loc=loc,
            )


async def _check_ports(
    session: AsyncSession,
    spec: StackSpec,
    placed: Mapping[str, Sequence[str]],
    host_ids: Mapping[str, int],
) -> None:
    """409 when a published port is taken on its host by a container of another stack."""
    for want in desired_containers(spec, placed):
        host_id = host_ids[want.host]
        rows = await session.exec(select(Container).where(Container.host_id == host_id))
        others = [c for c in rows if c.spec.labels.get(labels.STACK) != spec.name]
        clash = port_clash(want.spec, others)
        if clash is not None:
            i, holder = clash
            raise Conflict(
                f"service {want.service}: port {want.spec.ports[i].host_port} on {want.host} "
                f"is published by container {holder}",
                loc=["body", "compose", "services", want.service, "ports", i],
            )


async def _started(
    session: AsyncSession, rt: Runtime, row: Stack, action: str, wait: bool
) -> StackPublic:
    """Store the write, say so, wake the deployer; with `wait`, the stack once settled."""
    await session.commit()
    await _event(rt, row, action, "started")
    rt.stack_wake.set()
    if wait:
        await _wait(rt, row.id or 0, lambda s: s is not None and s.status in SETTLED)
    async with rt.sessions() as fresh:
        now = await fresh.get(Stack, row.id)
        return await stack_public(fresh, now or row)


# A wait re-reads the stack at each of its events; this re-read is only a safety net.
_RECHECK_S = 2.0


async def _wait(rt: Runtime, stack_id: int, done: Any) -> None:
    """Until `done(row)` holds, bounded by WEFT_STACK_WAIT_TIMEOUT. The row is read at
    the start and again at each event about this stack (the deployer commits a status
    before it says so), not on a timer: a long wait costs no queries while nothing moves."""
    deadline = time.monotonic() + rt.settings.stack_wait_timeout
    async with rt.bus.subscribe() as queue:  # before the first read: no event slips by
        while True:
            async with rt.sessions() as session:
                if done(await session.get(Stack, stack_id)):
                    return
            left = deadline - time.monotonic()
            if left <= 0:
                return
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(min(left, _RECHECK_S)):
                    while not _about(await queue.get(), stack_id):
                        pass


def _about(event: EventPublic | None, stack_id: int) -> bool:
    """Whether an event from the bus may have changed the stack (LAGGED may have)."""
    return event is None or (event.resource == "stack" and event.resource_id == stack_id)


async def _event(rt: Runtime, row: Stack, action: str, result: str, reason: str = "") -> None:
    await rt.events.emit(
        "stack", action, result, resource_id=row.id, resource_name=row.name, reason=reason or None
    )


async def stack_containers(session: AsyncSession, name: str) -> list[Container]:
    """The containers a stack owns (by their stack label), in id order."""
    pattern = f"{name}-%"
    rows = await session.exec(
        select(Container).where(col(Container.name).like(pattern)).order_by(col(Container.id))
    )
    return [c for c in rows if c.spec.labels.get(labels.STACK) == name]


async def stack_public(session: AsyncSession, row: Stack) -> StackPublic:
    """The stack with each service's desired and running replicas, hosts and state."""
    rows = await stack_containers(session, row.name)
    hosts = {h.id: h.name for h in await session.exec(select(Host))}
    services = [
        service_state(name, svc.image, len(row.placement.services.get(name, ())), rows, hosts)
        for name, svc in sorted(row.spec.services.items())
    ]
    return StackPublic(
        id=row.id or 0,
        name=row.name,
        status=row.status,
        status_reason=row.status_reason,
        generation=row.generation,
        compose=row.source.compose,
        variables=sorted(row.source.variables),
        services=services,
        networks=dict(row.placement.drivers),
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def service_state(
    name: str, image: str, desired: int, rows: Sequence[Container], hosts: Mapping[Any, str]
) -> ServiceState:
    """How one service's containers are doing."""
    mine = [c for c in rows if c.spec.labels.get(labels.SERVICE) == name]
    running = [c for c in mine if replica_up(c)]
    completed = [c for c in mine if replica_completed(c)]
    errors = [f"{c.name}: {c.status_reason}" for c in mine if c.status == ResourceStatus.failed]
    errors += [f"{c.name}: {why}" for c in mine if (why := replica_trouble(c))]
    if errors:
        state = "failed"
    elif desired and len(completed) == desired:
        state = "completed"
    elif len(running) == desired:
        state = "running"
    else:
        state = "pending"
    return ServiceState(
        name=name,
        image=image,
        desired=desired,
        running=len(running),
        hosts=sorted({hosts.get(c.host_id, "?") for c in mine}),
        state=state,
        last_error=errors[-1] if errors else None,
    )


def replica_running(c: Container) -> bool:
    """The engine runs it (whatever its health)."""
    return c.observed.state in RUNNING_STATES


def replica_up(c: Container) -> bool:
    """Running, and healthy when it has a health check."""
    return replica_running(c) and c.observed.health in (None, "healthy")


def replica_completed(c: Container) -> bool:
    """Exited with code 0 (a one-off task that finished)."""
    return c.observed.state == "exited" and c.observed.exit_code == 0


def replica_trouble(c: Container) -> str | None:
    """Why a replica that the engine runs is not well, if it is not."""
    seen = c.observed
    if seen.health == "unhealthy":
        return "health check failing"
    if seen.state == "exited" and seen.exit_code not in (0, None):
        return f"exited with code {seen.exit_code}"
    if seen.state == "dead":
        return "dead"
    return None
