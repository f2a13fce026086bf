"""One runner per host: observe, plan, act, record; back off while the agent is away.

A resource whose action failed waits out its own backoff (`retries`), and an agent
call that is slow (a stop with a long timeout) finishes in the background while the
pass goes on with the rest of the host; its result is recorded by a later pass, so
the database is only ever written from the runner's own task, in order.
"""

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Update, or_, update
from sqlmodel import col, select

from controlplane.contract import labels
from controlplane.contract.bounds import MAX_STOP_TIMEOUT_S
from controlplane.contract.dns import DnsRecordSet
from controlplane.contract.overlay import VNI_LABEL, OverlayState
from controlplane.contract.schemas import ContainerState, LinkTarget, NetworkState
from controlplane.server.agentclient import (
    AgentAuthError,
    AgentClient,
    AgentClientError,
    AgentConflict,
    AgentError,
    AgentFactory,
    AgentUnavailable,
)
from controlplane.server.db import SessionMaker
from controlplane.server.eventlog import Recorder
from controlplane.server.models import (
    Container,
    EventPublic,
    Host,
    Link,
    Network,
    ObservedRecord,
)
from controlplane.server.models.common import HostStatus, ResourceStatus, utcnow
from controlplane.server.reconcile import planner
from controlplane.server.reconcile.desired import (
    desired_state,
    observed_record,
    overlay_free_hash,
)
from controlplane.server.reconcile.linkplan import LinkWorld
from controlplane.server.reconcile.overlays import (
    OVERLAY,
    HostOverlays,
    TunnelConfig,
    host_overlays,
    mesh_records,
    on_overlays,
)
from controlplane.server.reconcile.retries import Key, Retries
from controlplane.server.reconcile.tunnels import sync_tunnel
from controlplane.server.settings import Settings

log = logging.getLogger("weft.reconcile")

# Observe/plan/act rounds per pass: an action's effect (a new address) is seen next round.
MAX_ROUNDS = 4


def _cannot_open(sealed: str) -> str:
    """A context made without the sealing key cannot open the mesh's pre-shared key."""
    raise RuntimeError("this control plane has no key to open the mesh's pre-shared key")


@dataclass
class Context:
    """What every runner shares."""

    sessions: SessionMaker
    owner: str
    settings: Settings
    agent_factory: AgentFactory
    events: Recorder
    # Called when a container's addresses changed (links on other hosts may follow it).
    on_addresses_changed: Callable[[int], None] = lambda host_id: None
    # Called when a host's WireGuard public key changed (its peers' tunnels must follow).
    on_key_changed: Callable[[int], None] = lambda host_id: None
    # Opens what the database holds sealed (the mesh's pre-shared key).
    open_sealed: Callable[[str], str] = _cannot_open


class HostGone(Exception):
    """The host was deleted: its runner ends."""


@dataclass
class Flight:
    """An agent call that outlasted `slow_action`: it finishes in the background."""

    action: planner.Action
    attempt: object
    task: "asyncio.Task[ContainerState | None]"
    started: float


def _key(action: planner.Action) -> Key:
    return (action.kind, action.name)


class HostRunner:
    """Converges one host to the desired state, in a loop, until stopped."""

    def __init__(self, host_id: int, ctx: Context) -> None:
        self.host_id = host_id
        self.ctx = ctx
        self.passes = 0
        # For /metrics: passes that failed, and the retry delay in force (0: none).
        self.failed_passes = 0
        self.backoff = 0.0
        self.retries = Retries(ctx.settings.retry_initial, ctx.settings.retry_max)
        self.flights: dict[Key, Flight] = {}
        self._in_pass = False
        # observe_now running, and asked for again meanwhile.
        self._observing = self._observe_again = False
        self._wake = asyncio.Event()
        self._done = asyncio.Condition()
        self._client: AgentClient | None = None
        # How this host's reasons on overlays start (other hosts leave those alone).
        self._on_me = f"on host {host_id}:"
        self._client_key: tuple[str, str] | None = None
        self._tunnels = TunnelConfig(str(ctx.settings.tunnel_network), ctx.open_sealed)

    def kick(self) -> None:
        """Run a pass now rather than at the next interval."""
        self._wake.set()

    async def next_pass(self, timeout: float, kick: bool = True) -> bool:
        """Wait for a pass that started after this call (kicked now, or when due)."""
        target = self.passes + (2 if self._in_pass else 1)
        if kick:
            self.kick()
        try:
            async with asyncio.timeout(timeout), self._done:
                await self._done.wait_for(lambda: self.passes >= target)
        except TimeoutError:
            return False
        return True

    async def settled(self, timeout: float) -> bool:
        """Wait for a pass begun after now, and for the calls in flight to be recorded."""
        deadline = time.monotonic() + timeout
        if not await self.next_pass(timeout):
            return False
        while self.flights:
            if not await self.next_pass(deadline - time.monotonic(), kick=False):
                return False
        return True

    async def run(self) -> None:
        """The loop: a pass, then wait for a kick, the interval, or the next retry due."""
        s = self.ctx.settings
        backoff = unsettled = s.backoff_initial
        while True:
            self._wake.clear()
            self._in_pass = True
            delay = s.reconcile_interval
            try:
                clean = await self.reconcile_once()
                backoff = s.backoff_initial
                self.backoff = 0.0
                if clean:
                    unsettled = s.backoff_initial
                elif (due := self.retries.next_due()) is not None:
                    delay = min(delay, max(due - time.monotonic(), 0.01))
                elif not self.flights:  # still work to do after MAX_ROUNDS: come back, slower
                    delay, unsettled = min(delay, unsettled), min(unsettled * 2, delay)
            except HostGone:
                return
            except (AgentUnavailable, AgentAuthError) as exc:
                await self._mark_unreachable(exc)
                delay, backoff = backoff, min(backoff * 2, s.backoff_max)
                self.failed_passes, self.backoff = self.failed_passes + 1, delay
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("reconcile pass of host %s failed", self.host_id)
                delay, backoff = backoff, min(backoff * 2, s.backoff_max)
                self.failed_passes, self.backoff = self.failed_passes + 1, delay
            finally:
                self._in_pass = False
                async with self._done:
                    self.passes += 1
                    self._done.notify_all()
            # Not asyncio.wait_for: on 3.11 it swallows a cancel that comes with a kick.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(delay):
                    await self._wake.wait()

    async def close(self) -> None:
        """Cancel the calls in flight and close the agent client."""
        for flight in self.flights.values():
            flight.task.cancel()
        self.flights.clear()
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    # --- one pass ------------------------------------------------------------------

    async def _agent(self, host: Host) -> AgentClient:
        key = (host.agent_url, host.agent_token)
        if self._client is None or self._client_key != key:
            await self.close()
            self._client = self.ctx.agent_factory(*key)
            self._client_key = key
        return self._client

    async def reconcile_once(self) -> bool:
        """One pass; True when the host converged with nothing failed, held back or in flight."""
        # Failed this pass, or waiting out a backoff: not tried again in this pass.
        failed: set[Key] = set()
        for _ in range(MAX_ROUNDS):
            async with self.ctx.sessions() as session:
                host = await session.get(Host, self.host_id)
                if host is None:
                    raise HostGone(self.host_id)
            agent = await self._agent(host)
            await self._land_flights()
            info = await agent.info()
            seen_containers = await agent.list_containers({labels.OWNER: self.ctx.owner})
            seen_networks = await agent.list_networks({labels.OWNER: self.ctx.owner})
            await self._record_observed(
                info.hostname, info.docker_version, info.addresses, seen_containers
            )
            mine = await host_overlays(
                self.ctx.sessions, self.host_id, self.ctx.owner, self._tunnels
            )
            seen_overlays = await self._seen_overlays(agent, mine, seen_networks)
            if await sync_tunnel(
                agent, self.ctx.sessions, host, self.ctx.owner, mine, seen_overlays
            ):
                self.ctx.on_key_changed(self.host_id)
            plan, generations = await self._plan(
                seen_networks, seen_containers, mine, seen_overlays
            )
            if mine.dns is not None:
                await self._sync_dns(agent, mine.dns)
            for nid, reason in mine.failures.items():
                why = f"{self._on_me} {reason}"
                await self._write(
                    self._status_write("network", nid, None, ResourceStatus.failed, why)
                )
            self.retries.keep_only({_key(a) for a in plan.actions})
            todo: list[tuple[planner.Action, object]] = []
            now = time.monotonic()
            for action in plan.actions:
                key, attempt = _key(action), _attempt(action, generations)
                if key in failed or key in self.flights:
                    continue
                if self.retries.held(key, attempt, now):
                    failed.add(key)
                    continue
                todo.append((action, attempt))
            if not todo:
                await self._record_converged(plan, generations, set(mine.generations))
                return not plan.actions
            for group in _groups(todo):
                failed |= await self._execute(agent, group)
        return False

    async def _record_observed(
        self, hostname: str, version: str, addresses: list[str], seen: list[ContainerState]
    ) -> None:
        """Store what the agent reports: the host's facts, each container's state."""
        by_name = {c.name: c for c in seen}
        moved = False
        async with self.ctx.sessions() as session:
            host = await session.get(Host, self.host_id)
            if host is None:
                return
            was_unreachable = host.status != HostStatus.ready
            host.status, host.status_reason, host.last_seen = HostStatus.ready, None, utcnow()
            host.hostname, host.docker_version, host.addresses = hostname, version, addresses
            rows = await session.exec(select(Container).where(Container.host_id == self.host_id))
            for row in rows:
                state = by_name.get(row.name)
                record = observed_record(state, row.observed) if state else ObservedRecord()
                if record.addresses != row.observed.addresses:
                    moved = True
                if record != row.observed:
                    row.observed = record
            await session.commit()
        if was_unreachable:  # an event per transition, not per heartbeat
            await self._heartbeat_event("ok", "agent answers again")
        if moved:
            self.ctx.on_addresses_changed(self.host_id)

    async def _seen_overlays(
        self, agent: AgentClient, mine: HostOverlays, seen_networks: list[NetworkState]
    ) -> list[OverlayState]:
        """This control plane's overlays on the host (asked only when there may be some)."""
        if not mine.overlays and not any(VNI_LABEL in n.labels for n in seen_networks):
            return []
        owned = {n.name for n in seen_networks}
        return [o for o in await agent.list_overlays() if o.name in owned]

    async def observe_now(self) -> None:
        """Record the host's containers as its agent lists them now (a change event came).

        Events come in bursts (a deploy starts containers by the dozen): while one
        observation runs, the calls meanwhile make one more after it, not one each.
        """
        if self._observing:
            self._observe_again = True
            return
        self._observing = True
        try:
            self._observe_again = True
            while self._observe_again:
                self._observe_again = False
                await self._observe()
        finally:
            self._observing = False

    async def _observe(self) -> None:
        async with self.ctx.sessions() as session:
            host = await session.get(Host, self.host_id)
        if host is None:
            return
        try:
            agent = await self._agent(host)
            seen = await agent.list_containers({labels.OWNER: self.ctx.owner})
        except AgentClientError as exc:  # the pass that follows says why
            log.debug("observing host %s: %s", self.host_id, exc)
            return
        facts = (host.hostname or "", host.docker_version or "", list(host.addresses))
        await self._record_observed(*facts, seen)

    async def push_dns(self) -> None:
        """Push the mesh's records now: a container on an overlay changed on some host."""
        async with self.ctx.sessions() as session:
            host = await session.get(Host, self.host_id)
        records = await mesh_records(self.ctx.sessions, self.host_id)
        if host is None or records is None:
            return
        try:
            await self._sync_dns(await self._agent(host), records)
        except AgentClientError as exc:  # the next pass pushes it again
            log.debug("DNS push to host %s: %s", self.host_id, exc)

    async def _sync_dns(self, agent: AgentClient, wanted: DnsRecordSet) -> None:
        """Push the mesh's records when the host serves others (an agent without DNS: skipped)."""
        try:
            served = await agent.get_dns()
            if (
                DnsRecordSet.model_validate(served.model_dump(include={"domain", "ttl", "records"}))
                != wanted
            ):
                await agent.set_dns(wanted)
        except AgentConflict:
            return

    async def _plan(
        self,
        seen_networks: list[NetworkState],
        seen_containers: list[ContainerState],
        overlays: HostOverlays,
        seen_overlays: list[OverlayState],
    ) -> tuple[planner.Plan, dict[tuple[str, int], int]]:
        """The plan for this host, and the generation of every resource it was made from."""
        async with self.ctx.sessions() as session:
            nets = list(
                await session.exec(
                    select(Network).where(
                        Network.host_id == self.host_id, Network.driver != OVERLAY
                    )
                )
            )
            everyone = list(await session.exec(select(Container)))
            ctrs = [c for c in everyone if c.host_id == self.host_id]
            ids = [c.id for c in ctrs]
            links = list(await session.exec(select(Link).where(col(Link.from_id).in_(ids))))
            hosts = list(await session.exec(select(Host)))
            overlay_names = set(
                await session.exec(select(Network.name).where(Network.driver == OVERLAY))
            )
        world = LinkWorld.of(everyone, hosts, nets)
        desired_nets, desired_containers = desired_state(nets, ctrs, links, world, self.ctx.owner)
        desired_containers = [
            on_overlays(overlay_free_hash(c, overlay_names), overlays) for c in desired_containers
        ]
        generations = {("network", n.id or 0): n.generation for n in nets}
        generations.update({("network", i): g for i, g in overlays.generations.items()})
        generations.update({("container", c.id or 0): c.generation for c in ctrs})
        plan = planner.plan(
            desired_nets,
            desired_containers,
            seen_networks,
            seen_containers,
            overlays.overlays,
            seen_overlays,
        )
        return plan, generations

    async def _execute(
        self, agent: AgentClient, group: list[tuple[planner.Action, object]]
    ) -> set[Key]:
        """Run the group's actions, `parallel_actions` at a time, each recorded as it ends
        while the next takes its place; the keys of those that failed.

        Once none is left waiting for a place, a call past `slow_action` (a recreate
        stopping a container with a long stop timeout) finishes in the background and
        a later pass records it. Until then a slow call keeps its place: more calls
        at once on an engine that is slow already would only slow each of them.
        """
        size, slow = self.ctx.settings.parallel_actions, self.ctx.settings.slow_action
        queue, failed = list(reversed(group)), set()
        running: dict[asyncio.Task[ContainerState | None], Flight] = {}
        try:
            while queue or running:
                while queue and len(running) < size:
                    action, attempt = queue.pop()
                    task = asyncio.create_task(
                        self._call(agent, action), name=f"{action.verb}-{action.name}"
                    )
                    running[task] = Flight(action, attempt, task, time.monotonic())
                timeout = None
                if not queue:
                    self._to_background(running, slow)
                    if not running:
                        break
                    timeout = min(f.started for f in running.values()) + slow - time.monotonic()
                done, _ = await asyncio.wait(
                    running, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
                )
                for task in done:
                    flight = running.pop(task)
                    if not await self._record(flight.action, flight.attempt, task):
                        failed.add(_key(flight.action))
        except BaseException:  # the runner stops, or the agent went away: the calls go too
            for task in running:
                task.cancel()
            raise
        return failed

    def _to_background(
        self, running: "dict[asyncio.Task[ContainerState | None], Flight]", slow: float
    ) -> None:
        """Move the calls running for `slow` seconds or more to the flights."""
        now = time.monotonic()
        for task, flight in list(running.items()):
            if not task.done() and now - flight.started >= slow:
                del running[task]
                self.flights[_key(flight.action)] = flight
                task.add_done_callback(lambda _: self.kick())  # a pass records it

    async def _call(self, agent: AgentClient, action: planner.Action) -> ContainerState | None:
        """The action's agent call only (no database): the container's new state, if any."""
        # Stopping a container may take its whole stop timeout before the agent answers.
        long = self.ctx.settings.agent_timeout + MAX_STOP_TIMEOUT_S
        match action:
            case planner.EnsureNetwork():
                await agent.ensure_network(action.name, action.spec)
            case planner.RemoveNetwork():
                await agent.delete_network(action.name)
            case planner.EnsureOverlay():
                await agent.ensure_overlay(action.name, action.spec)
            case planner.RemoveOverlay():
                await agent.delete_overlay(action.name)
            case planner.EnsureContainer():
                result = await agent.ensure_container(action.name, action.spec, long)
                return result.container
            case planner.RestartContainer():
                return await agent.restart_container(action.name, long)
            case planner.RemoveContainer():
                await agent.delete_container(action.name, long)
            case planner.SetLinks():
                await agent.set_links(action.name, action.links)
            case planner.AttachContainer():
                await agent.attach_container(action.network, action.name, action.attach)
            case planner.DetachContainer():
                await agent.detach_container(action.network, action.name)
            case planner.ExposeHost():
                await agent.expose(action.name, action.address)
            case planner.HideHost():
                await agent.hide(action.name, action.address)
        return None

    async def _land_flights(self) -> None:
        """Record the calls that finished in the background since the last round."""
        for key, flight in list(self.flights.items()):
            if not flight.task.done():
                continue
            del self.flights[key]
            # What failed while this ran may have waited on it (a port, a name): retry now.
            self.retries.forget_since(flight.started)
            try:
                await self._record(flight.action, flight.attempt, flight.task)
            except AgentUnavailable as exc:  # the pass that follows finds out for itself
                log.info("%s %s on host %s: %s", flight.action.verb, key, self.host_id, exc)

    async def _record(
        self,
        action: planner.Action,
        attempt: object,
        task: "asyncio.Task[ContainerState | None]",
    ) -> bool:
        """Record a finished call: its event, the resource's status; False if it failed."""
        rid = getattr(action, "id", None)
        try:
            state = task.result()
        except AgentUnavailable:
            raise
        except AgentError as exc:
            await self._record_failure(action, attempt, str(exc))
            return False
        self.retries.succeeded(_key(action))
        match action:
            case planner.EnsureContainer():
                # A new container is as fresh as a restart: count any restart asked for.
                fresh = action.verb != "start"
                await self._record_applied(action.id, state, action.spec.links, None, fresh)
            case planner.RestartContainer():
                await self._record_applied(action.id, state, None, action.generation)
            case planner.SetLinks():
                await self._record_applied(action.id, None, action.links, None)
        await self._emit_outcome(action, rid, None)
        return True

    async def _record_failure(self, action: planner.Action, attempt: object, reason: str) -> None:
        """One event per distinct failure (a repeat counts on it), the status, the backoff."""
        rid = getattr(action, "id", None)
        entry, repeat = self.retries.failed(_key(action), attempt, reason, time.monotonic())
        if not (repeat and entry.event_id and await self.ctx.events.repeat(entry.event_id)):
            entry.event_id = (await self._emit_outcome(action, rid, reason)).id
        if rid is not None:
            await self._write(
                self._status_write(
                    action.kind, rid, None, ResourceStatus.failed, reason, entry.count
                )
            )

    async def _emit_outcome(
        self, action: planner.Action, rid: int | None, reason: str | None
    ) -> EventPublic:
        """Record the action's event: ok, or failed with the agent's reason."""
        return await self.ctx.events.emit(
            action.kind,
            action.verb,
            "ok" if reason is None else "failed",
            resource_id=rid,
            resource_name=action.name,
            host_id=self.host_id,
            reason=reason,
        )

    async def _record_applied(
        self,
        cid: int,
        state: ContainerState | None,
        links: list[LinkTarget] | None,
        restarted: int | None,
        fresh: bool = False,
    ) -> None:
        """Record what an action did: fresh state, the link set pushed, the restart done
        (`fresh`: a new container, as good as the restart asked for now)."""
        async with self.ctx.sessions() as session:
            row = await session.get(Container, cid)
            if row is None:
                return
            record = observed_record(state, row.observed) if state else row.observed
            row.observed = record.after(links, row.restart_generation if fresh else restarted)
            await session.commit()

    async def _write(self, *statements: Update) -> None:
        """Run the statements in one transaction."""
        async with self.ctx.sessions() as session:
            for stmt in statements:
                await session.exec(stmt)
            await session.commit()

    def _status_write(
        self,
        kind: str,
        rid: int,
        generation: int | None,
        status: ResourceStatus,
        reason: str | None,
        failures: int = 0,
        shared: bool = False,
    ) -> Update:
        """The write of a network's or container's status (none if a newer write made it
        pending since `generation`).

        `shared`: an overlay, whose part on another host may have failed; that host's
        reason ("on host N: ...") stands until that host writes its own status.
        """
        table = Network if kind == "network" else Container
        stmt = (
            update(table)
            .where(col(table.id) == rid)
            .values(status=status, status_reason=reason, failures=failures)
        )
        if status == ResourceStatus.converged:
            # Most passes change nothing: skip the write then.
            stmt = stmt.where(
                or_(
                    col(table.status) != status,
                    col(table.status_reason).is_not(None),
                    col(table.failures) != 0,
                )
            )
        if shared:
            reason_col = col(table.status_reason)
            stmt = stmt.where(
                or_(
                    col(table.status) != ResourceStatus.failed,
                    reason_col.is_(None),
                    ~reason_col.startswith("on host "),
                    reason_col.startswith(self._on_me),
                )
            )
        if generation is not None:
            # A write since this pass loaded the row wins: its status stays pending.
            stmt = stmt.where(col(table.generation) == generation)
        return stmt

    async def _record_converged(
        self,
        plan: planner.Plan,
        generations: dict[tuple[str, int], int],
        overlays: set[int],
    ) -> None:
        """Converged for everything with no action left (failed, held back or in flight)."""
        unsettled = {(a.kind, getattr(a, "id", 0)) for a in plan.actions}
        # One transaction for the host's resources, not a commit each (most change nothing).
        await self._write(
            *(
                self._status_write(
                    kind,
                    rid,
                    generation,
                    ResourceStatus.converged,
                    None,
                    shared=kind == "network" and rid in overlays,
                )
                for (kind, rid), generation in generations.items()
                if (kind, rid) not in unsettled
            )
        )

    async def _mark_unreachable(self, exc: Exception) -> None:
        """The agent is away: say so on the host and on what waits for it."""
        reason = f"agent unreachable: {exc}" if isinstance(exc, AgentUnavailable) else str(exc)
        async with self.ctx.sessions() as session:
            host = await session.get(Host, self.host_id)
            if host is None:
                return
            was_ready = host.status == HostStatus.ready
            host.status, host.status_reason = HostStatus.unreachable, reason[:1000]
            for table in (Network, Container):
                await session.exec(
                    update(table)
                    .where(
                        col(table.host_id) == self.host_id,
                        col(table.status) == ResourceStatus.pending,
                    )
                    .values(status_reason=f"waiting for host {host.name}: {reason}"[:1000])
                )
            await session.commit()
        if was_ready:  # an event per transition, not per retry
            await self._heartbeat_event("failed", reason)

    async def _heartbeat_event(self, result: str, reason: str) -> None:
        """The host's agent started or stopped answering."""
        await self.ctx.events.emit(
            "host",
            "heartbeat",
            result,
            resource_id=self.host_id,
            host_id=self.host_id,
            reason=reason,
        )


def _groups(
    todo: list[tuple[planner.Action, object]],
) -> list[list[tuple[planner.Action, object]]]:
    """The actions in order, consecutive container creates and starts grouped to run side
    by side (`parallel_actions` at a time); everything else alone. A container that
    joins another's namespace (`container:X`) is never grouped: it needs X first, and
    the planner puts it after the others."""
    out: list[list[tuple[planner.Action, object]]] = []
    for item in todo:
        last = out[-1] if out else None
        if not _groupable(item[0]) or last is None or not _groupable(last[-1][0]):
            out.append([item])
        else:
            last.append(item)
    return out


def _groupable(action: planner.Action) -> bool:
    return isinstance(action, planner.EnsureContainer) and not action.spec.network_mode.startswith(
        "container:"
    )


def _attempt(action: planner.Action, generations: dict[tuple[str, int], int]) -> object:
    """What a retry is held back for: the resource's generation (a write starts afresh)."""
    rid = getattr(action, "id", None)
    if rid is None:  # a stray: nothing is written to it, so the verb is all there is
        return action.verb
    return generations.get((action.kind, rid))
