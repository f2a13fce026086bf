"""The stack deployer: brings every stack's containers to its file, in depends_on order.

It exists so that `depends_on` holds across hosts and a deploy reports the truth.
Each pass reads the stack's desired state from the database and writes
containers, networks and links through the same services the API uses; the
host reconcilers do the Docker work. A service's containers are only written
once every service it depends on meets the condition asked (started, healthy,
completed), as the reconcilers have observed it. Nothing lives in memory between
passes, so a control plane killed mid-deploy resumes where it was on restart,
and a pass run twice changes nothing the second time.

A deploy ends `converged` when every replica runs (healthy where checked), or
`failed` with the reason of each service that could not come up; a stack that
failed keeps being checked, and turns converged once its containers recover.
"""

import asyncio
import contextlib
import logging
from collections.abc import Iterable
from dataclasses import replace

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from controlplane.contract import labels
from controlplane.contract.apitypes import ContainerCreate, ContainerUpdate, ResourceStatus
from controlplane.server.agentclient import AgentError, AgentUnavailable
from controlplane.server.models import (
    Container,
    Host,
    LinkCreate,
    Network,
    NetworkCreate,
    Stack,
    StackStatus,
)
from controlplane.server.models.common import utcnow
from controlplane.server.services import containers as container_svc
from controlplane.server.services import links as link_svc
from controlplane.server.services import networks as network_svc
from controlplane.server.services.enginenets import engine_subnets
from controlplane.server.services.errors import DomainError, HostUnavailable
from controlplane.server.services.images import ensure_image
from controlplane.server.services.runtime import Runtime
from controlplane.server.services.stacks import (
    replica_completed,
    replica_running,
    replica_trouble,
    replica_up,
    service_state,
    stack_containers,
)
from controlplane.stacks.desired import (
    DesiredContainer,
    DesiredNetwork,
    desired_containers,
    desired_links,
    desired_networks,
    free_subnet,
)
from controlplane.stacks.graph import waves
from controlplane.stacks.spec import Condition, StackSpec

log = logging.getLogger("weft.stacks")

BUSY_INTERVAL = 0.5  # between passes while a stack is deploying or being removed
IDLE_INTERVAL = 5.0  # between passes otherwise (failed stacks may recover)


class NotYet(Exception):
    """A dependency is not there yet: the pass stops here, the next one goes on."""


class DeployFailed(Exception):
    """The stack cannot come up as it is; the message says which service and why."""


async def run_forever(rt: Runtime) -> None:
    """Make passes until cancelled: at once when woken by a write, else on an interval."""
    while True:
        rt.stack_wake.clear()
        busy = False
        try:
            busy = await deploy_pass(rt)
        except Exception:  # a bug in one pass must not stop every later deploy
            log.exception("stack deploy pass failed")
        # Not asyncio.wait_for: on 3.11 it swallows a cancel that comes with a wake.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(BUSY_INTERVAL if busy else IDLE_INTERVAL):
                await rt.stack_wake.wait()


async def deploy_pass(rt: Runtime) -> bool:
    """One pass over the stacks that need work; whether any still does."""
    async with rt.sessions() as session:
        active = (StackStatus.deploying, StackStatus.removing, StackStatus.failed)
        query = select(Stack.id).where(col(Stack.status).in_(active)).order_by(col(Stack.id))
        ids = list(await session.exec(query))
    busy = False
    for stack_id in ids:
        async with rt.sessions() as session:
            row = await session.get(Stack, stack_id)
            if row is None:
                continue
            if row.status == StackStatus.removing:
                busy |= not await _remove(session, rt, row)
            else:
                busy |= await _deploy(session, rt, row)
    return busy


async def _deploy(session: AsyncSession, rt: Runtime, row: Stack) -> bool:
    """One step of a deploy; whether the stack still needs passes soon."""
    generation, was = row.generation, row.status
    try:
        await _apply(session, rt, row)
    except NotYet as exc:
        if was == StackStatus.failed:
            return False  # a failed stack waits for its containers to recover
        await _note_waiting(rt, row, str(exc))
        return True
    except DeployFailed as exc:
        await _finish(session, rt, row, generation, StackStatus.failed, str(exc))
        return False
    await _finish(session, rt, row, generation, StackStatus.converged, None)
    return False


async def _apply(session: AsyncSession, rt: Runtime, row: Stack) -> None:
    """Write what is missing or changed, wave by wave; raise NotYet or DeployFailed."""
    spec, placed = row.spec, row.placement.services
    hosts = {h.name: h for h in await session.exec(select(Host))}
    missing = sorted({h for where in placed.values() for h in where} - set(hosts))
    if missing:
        raise DeployFailed(f"hosts gone: {', '.join(missing)}")
    await _ensure_networks(session, rt, row, hosts)
    existing = {(c.host_id, c.name): c for c in await stack_containers(session, row.name)}
    wanted = desired_containers(spec, placed)
    by_service: dict[str, list[DesiredContainer]] = {}
    for d in wanted:
        by_service.setdefault(d.service, []).append(d)
    images = _Images(rt, list(hosts.values()))
    for wave in waves(spec):
        for name in wave:
            for d in by_service.get(name, []):
                d = await images.pin(d, hosts[d.host])
                await _ensure_container(session, rt, row, d, hosts[d.host], existing)
        for name in wave:
            await _gate(session, row, spec, name)
    await _remove_extras(session, rt, row, {(hosts[d.host].id or 0, d.name) for d in wanted})
    await _ensure_links(session, rt, row)
    await _check_all_up(session, row, spec)


class _Images:
    """Each replica's image on its host (copied there if missing), pinned by id.

    The id goes into the replica's labels, so a deploy after an image was rebuilt
    under the same tag replaces that service's containers, and only those.
    Looked up once per (host, image) per pass.
    """

    def __init__(self, rt: Runtime, hosts: list[Host]) -> None:
        self._rt, self._hosts = rt, hosts
        self._ids: dict[tuple[int, str], str] = {}

    async def pin(self, want: DesiredContainer, host: Host) -> DesiredContainer:
        key = (host.id or 0, want.spec.image)
        if key not in self._ids:
            try:
                info = await ensure_image(self._rt, host, want.spec.image, self._hosts)
            except HostUnavailable as exc:
                raise NotYet(f"{want.service}: {exc.detail}") from None
            except DomainError as exc:
                raise DeployFailed(f"{want.service}: {exc.detail}") from None
            self._ids[key] = info.id
        pinned = {**want.spec.labels, labels.IMAGE_ID: self._ids[key]}
        return replace(want, spec=want.spec.model_copy(update={"labels": pinned}))


async def _ensure_networks(
    session: AsyncSession, rt: Runtime, row: Stack, hosts: dict[str, Host]
) -> None:
    overlays: dict[str, DesiredNetwork] = {}
    for want in desired_networks(row.spec, row.placement.services, row.placement.drivers):
        if want.driver == "overlay":
            overlays.setdefault(want.name, want)
            continue
        host = hosts[want.host]
        nets = await network_svc.list_networks(session, host.id)
        if any(n.name == want.name for n in nets):
            continue
        # Free in the database and on the engine (another control plane's stack, or a
        # network made by hand, holds subnets the database does not know).
        subnet = want.subnet or free_subnet(
            [n.subnet for n in nets] + await engine_subnets(rt, host)
        )
        if subnet is None:
            raise DeployFailed(f"network {want.key}: no free /24 left in the stack pool")
        data = NetworkCreate(
            name=want.name,
            host_id=host.id or 0,
            subnet=subnet,
            labels={labels.STACK: row.name},
        )
        try:
            await network_svc.create_network(session, rt, data, wait=False)
        except DomainError as exc:
            raise DeployFailed(f"network {want.key}: {exc.detail}") from None
    if overlays:
        await _ensure_overlays(session, rt, row, hosts, overlays)


async def _ensure_overlays(
    session: AsyncSession,
    rt: Runtime,
    row: Stack,
    hosts: dict[str, Host],
    wanted: dict[str, DesiredNetwork],
) -> None:
    """One overlay per stack network whose services span hosts: it spans their mesh
    (named by the first host), so a replica moved to another host of it is on it too."""
    existing = {n.name for n in await network_svc.overlay_networks(session)}
    for name, want in sorted(wanted.items()):
        if name in existing:
            continue
        data = NetworkCreate(
            name=name,
            driver="overlay",
            host_id=hosts[want.host].id or 0,
            subnet=want.subnet,
            encrypted=want.encrypted,
            labels={labels.STACK: row.name},
        )
        try:
            await network_svc.create_network(session, rt, data, wait=False)
        except DomainError as exc:
            raise DeployFailed(f"network {want.key}: {exc.detail}") from None


async def _ensure_container(
    session: AsyncSession,
    rt: Runtime,
    stack: Stack,
    want: DesiredContainer,
    host: Host,
    existing: dict[tuple[int, str], Container],
) -> None:
    """Create the replica, or update it when its spec changed; untouched otherwise."""
    current = existing.get((host.id or 0, want.name))
    try:
        if current is None:
            data = ContainerCreate.model_validate(
                {**want.spec.model_dump(), "name": want.name, "host_id": host.id}
            )
            await container_svc.create_container(session, rt, data, wait=False)
            await _event(rt, stack, want, "created")
        elif current.spec != want.spec:
            changes = ContainerUpdate.model_validate(want.spec.model_dump())
            await container_svc.update_container(session, rt, current.id or 0, changes, False)
            await _event(rt, stack, want, "updated")
    except DomainError as exc:
        raise DeployFailed(f"{want.service}: {exc.detail}") from None


async def _gate(session: AsyncSession, row: Stack, spec: StackSpec, name: str) -> None:
    """NotYet until the service meets what its dependents ask; DeployFailed if it cannot."""
    rows = [
        c
        for c in await stack_containers(session, row.name)
        if c.spec.labels.get(labels.SERVICE) == name
    ]
    for c in rows:
        if c.status == ResourceStatus.failed:
            raise DeployFailed(f"{name}: {c.status_reason}")
        trouble = replica_trouble(c)
        if trouble:
            raise DeployFailed(f"{name}: {trouble}")
    need = _strongest(
        {svc.depends_on[name] for svc in spec.services.values() if name in svc.depends_on}
    )
    if need is None:
        return
    desired = len(row.placement.services.get(name, ()))
    if len(rows) < desired:
        raise NotYet(f"waiting for {name} to be created")
    for c in rows:
        if need == Condition.COMPLETED:
            if not replica_completed(c):
                raise NotYet(f"waiting for {name} to complete")
        elif not replica_running(c):
            raise NotYet(f"waiting for {name} to start")
        elif need == Condition.HEALTHY:
            if c.observed.health is None and c.status == ResourceStatus.converged:
                raise DeployFailed(
                    f"{name}: has no health check, but a dependent waits for it to be healthy"
                )
            if c.observed.health != "healthy":
                raise NotYet(f"waiting for {name} to be healthy")


def _strongest(conditions: Iterable[Condition]) -> Condition | None:
    order = [Condition.STARTED, Condition.HEALTHY, Condition.COMPLETED]
    given = set(conditions)
    for condition in reversed(order):
        if condition in given:
            return condition
    return None


async def _remove_extras(
    session: AsyncSession, rt: Runtime, row: Stack, keep: set[tuple[int, str]]
) -> None:
    """Containers of the stack that the file no longer asks for: namespace guests first."""
    extras = [
        c for c in await stack_containers(session, row.name) if (c.host_id, c.name) not in keep
    ]
    for c in sorted(extras, key=lambda c: c.spec.shared_stack() is None):
        with contextlib.suppress(DomainError):
            await container_svc.delete_container(session, rt, c.id or 0, wait=False)


async def _ensure_links(session: AsyncSession, rt: Runtime, row: Stack) -> None:
    """The links of `links:`, once both ends are written."""
    ids = {c.name: c.id or 0 for c in await stack_containers(session, row.name)}
    for want in desired_links(row.spec, row.placement.services):
        source, target = ids.get(want.source), ids.get(want.target)
        if source is None or target is None:
            continue
        have = await link_svc.list_links(session, source)
        if any(k.from_id == source and k.alias == want.alias for k in have):
            continue
        data = LinkCreate.model_validate({"from": source, "to": target, "alias": want.alias})
        try:
            await link_svc.create_link(session, rt, data, wait=False)
        except DomainError as exc:
            raise DeployFailed(f"link {want.alias}: {exc.detail}") from None


async def _check_all_up(session: AsyncSession, row: Stack, spec: StackSpec) -> None:
    """NotYet until every replica runs (healthy where checked) or completed."""
    rows = await stack_containers(session, row.name)
    for name in sorted(spec.services):
        desired = len(row.placement.services.get(name, ()))
        state = service_state(name, spec.services[name].image, desired, rows, {})
        if state.state == "failed":
            raise DeployFailed(f"{name}: {state.last_error}")
        mine = [c for c in rows if c.spec.labels.get(labels.SERVICE) == name]
        if any(c.status != ResourceStatus.converged for c in mine):
            raise NotYet(f"waiting for {name} to converge")
        if not all(replica_up(c) or replica_completed(c) for c in mine) or len(mine) < desired:
            raise NotYet(f"waiting for {name} to run")


async def _remove(session: AsyncSession, rt: Runtime, row: Stack) -> bool:
    """One step of a removal; whether it is done (the stack row deleted)."""
    rows = await stack_containers(session, row.name)
    for c in sorted(rows, key=lambda c: c.spec.shared_stack() is None):
        with contextlib.suppress(DomainError):
            await container_svc.delete_container(session, rt, c.id or 0, wait=False)
    if await stack_containers(session, row.name):
        return False
    if row.remove_volumes and not await _remove_volumes(session, rt, row):
        return False
    nets = await session.exec(select(Network).where(col(Network.name).like(f"{row.name}_%")))
    for net in [n for n in nets if n.labels.get(labels.STACK) == row.name]:
        with contextlib.suppress(DomainError):
            await network_svc.delete_network(session, rt, net.id or 0, wait=False)
    await session.delete(row)
    await session.commit()
    await rt.events.emit("stack", "remove", "done", resource_id=row.id, resource_name=row.name)
    return True


async def _remove_volumes(session: AsyncSession, rt: Runtime, row: Stack) -> bool:
    """Delete the stack's named volumes on every host; False while a container still uses one.

    The container rows are gone by now, but each host's reconciler removes the
    containers themselves on its next pass; until then the engine refuses.
    """
    done = True
    for host in await session.exec(select(Host)):
        try:
            async with rt.agents(host.agent_url, host.agent_token) as agent:
                for volume in await agent.list_volumes({labels.STACK: row.name}):
                    if volume.in_use_by:
                        rt.reconcilers.kick(host.id or 0)
                        done = False
                        continue
                    await agent.delete_volume(volume.name)
        except (AgentError, AgentUnavailable) as exc:
            log.warning("stack %s: volumes on %s not removed yet: %s", row.name, host.name, exc)
            done = False
    return done


async def _finish(
    session: AsyncSession,
    rt: Runtime,
    row: Stack,
    generation: int,
    status: StackStatus,
    reason: str | None,
) -> None:
    """Record the end of a deploy, unless a newer write has started another."""
    await session.refresh(row)
    if row.generation != generation or (row.status == status and row.status_reason == reason):
        return
    row.status, row.status_reason, row.updated_at = status, reason, utcnow()
    await session.commit()
    result = "done" if status == StackStatus.converged else "failed"
    await rt.events.emit(
        "stack", "deploy", result, resource_id=row.id, resource_name=row.name, reason=reason
    )


# What each deploy last said it waits for, so a wait is one event, not one per pass.
# Lost on restart, which only repeats one event.
_last_note: dict[int, str] = {}


async def _note_waiting(rt: Runtime, row: Stack, what: str) -> None:
    """An event when what the deploy waits for changes (not one per pass)."""
    key = row.id or 0
    if _last_note.get(key) == f"{row.generation}:{what}":
        return
    _last_note[key] = f"{row.generation}:{what}"
    await rt.events.emit(
        "stack", "deploy", "waiting", resource_id=row.id, resource_name=row.name, reason=what
    )


async def _event(rt: Runtime, stack: Stack, want: DesiredContainer, result: str) -> None:
    """A stack event for one replica written (the stack's event stream shows progress)."""
    await rt.events.emit(
        "stack",
        "container",
        result,
        resource_id=stack.id,
        resource_name=stack.name,
        reason=f"{want.name}: {want.service} replica {want.replica} on {want.host}",
    )
