"""One runner per host: observe, plan, act, record; back off while the agent is away."""

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import or_, update
from sqlmodel import col, select

from controlplane.contract import labels
from controlplane.contract.schemas import ContainerState, LinkTarget, NetworkState
from controlplane.server.agentclient import (
    AgentAuthError,
    AgentClient,
    AgentError,
    AgentFactory,
    AgentUnavailable,
)
from controlplane.server.db import SessionMaker
from controlplane.server.eventlog import Recorder
from controlplane.server.models import Container, Host, Link, Network, ObservedRecord
from controlplane.server.models.common import HostStatus, ResourceStatus, utcnow
from controlplane.server.reconcile import planner
from controlplane.server.reconcile.desired import desired_state, observed_record
from controlplane.server.reconcile.linkplan import LinkWorld
from controlplane.server.settings import Settings

log = logging.getLogger("weft.reconcile")

# Observe/plan/act rounds per pass: an action's effect (a new address) is seen next round.
MAX_ROUNDS = 4


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


class HostGone(Exception):
    """The host was deleted: its runner ends."""


class HostRunner:
    """Converges one host to the desired state, in a loop, until stopped."""

    def __init__(self, host_id: int, ctx: Context) -> None:
        self.host_id = host_id
        self.ctx = ctx
        self.passes = 0
        # For /metrics: passes that failed, and the retry delay in force (0: none).
        self.failed_passes = 0
        self.backoff = 0.0
        self._in_pass = False
        self._wake = asyncio.Event()
        self._done = asyncio.Condition()
        self._client: AgentClient | None = None
        self._client_key: tuple[str, str] | None = None

    def kick(self) -> None:
        """Run a pass now rather than at the next interval."""
        self._wake.set()

    async def next_pass(self, timeout: float) -> bool:
        """Wait for a pass that started after this call; False on timeout."""
        target = self.passes + (2 if self._in_pass else 1)
        self.kick()
        try:
            async with self._done:
                await asyncio.wait_for(self._done.wait_for(lambda: self.passes >= target), timeout)
        except TimeoutError:
            return False
        return True

    async def run(self) -> None:
        """The loop: a pass, then wait for a kick, the interval, or the backoff."""
        s = self.ctx.settings
        backoff = s.backoff_initial
        while True:
            self._wake.clear()
            self._in_pass = True
            delay = s.reconcile_interval
            try:
                clean = await self.reconcile_once()
                backoff = s.backoff_initial
                self.backoff = 0.0
                if not clean:
                    delay = min(delay, backoff)
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
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), delay)

    async def close(self) -> None:
        """Close the agent client."""
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
        """One pass; True when the host converged with no failed action."""
        failed: set[tuple[str, str]] = set()
        for _ in range(MAX_ROUNDS):
            async with self.ctx.sessions() as session:
                host = await session.get(Host, self.host_id)
                if host is None:
                    raise HostGone(self.host_id)
            agent = await self._agent(host)
            info = await agent.info()
            seen_containers = await agent.list_containers({labels.OWNER: self.ctx.owner})
            seen_networks = await agent.list_networks({labels.OWNER: self.ctx.owner})
            await self._record_observed(
                info.hostname, info.docker_version, info.addresses, seen_containers
            )
            plan, generations = await self._plan(seen_networks, seen_containers)
            todo = [a for a in plan.actions if (a.kind, a.name) not in failed]
            if not todo:
                await self._record_converged(plan, generations, failed)
                return not failed
            for action in todo:
                if not await self._execute(agent, action):
                    failed.add((action.kind, action.name))
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

    async def _plan(
        self, seen_networks: list[NetworkState], seen_containers: list[ContainerState]
    ) -> tuple[planner.Plan, dict[tuple[str, int], int]]:
        """The plan for this host, and the generation of every resource it was made from."""
        async with self.ctx.sessions() as session:
            nets = list(await session.exec(select(Network).where(Network.host_id == self.host_id)))
            everyone = list(await session.exec(select(Container)))
            mine = [c for c in everyone if c.host_id == self.host_id]
            ids = [c.id for c in mine]
            links = list(await session.exec(select(Link).where(col(Link.from_id).in_(ids))))
            hosts = list(await session.exec(select(Host)))
        world = LinkWorld.of(everyone, hosts, nets)
        desired_nets, desired_containers = desired_state(nets, mine, links, world, self.ctx.owner)
        generations = {("network", n.id or 0): n.generation for n in nets}
        generations.update({("container", c.id or 0): c.generation for c in mine})
        plan = planner.plan(desired_nets, desired_containers, seen_networks, seen_containers)
        return plan, generations

    async def _execute(self, agent: AgentClient, action: planner.Action) -> bool:
        """Run one action; record its event and the resource's status. False if it failed."""
        rid = getattr(action, "id", None)
        try:
            match action:
                case planner.EnsureNetwork():
                    await agent.ensure_network(action.name, action.spec)
                case planner.RemoveNetwork():
                    await agent.delete_network(action.name)
                case planner.EnsureContainer():
                    result = await agent.ensure_container(action.name, action.spec)
                    # A new container is as fresh as a restart: count any restart asked for.
                    fresh = (
                        await self._restart_generation(action.id)
                        if action.verb != "start"
                        else None
                    )
                    await self._record_applied(
                        action.id, result.container, action.spec.links, fresh
                    )
                case planner.RestartContainer():
                    state = await agent.restart_container(action.name)
                    await self._record_applied(action.id, state, None, action.generation)
                case planner.RemoveContainer():
                    await agent.delete_container(action.name)
                case planner.SetLinks():
                    await agent.set_links(action.name, action.links)
                    await self._record_applied(action.id, None, action.links, None)
        except AgentUnavailable:
            raise
        except AgentError as exc:
            reason = str(exc)
            await self._emit_outcome(action, rid, reason)
            if rid is not None:
                await self._set_status(action.kind, rid, None, ResourceStatus.failed, reason)
            return False
        await self._emit_outcome(action, rid, None)
        return True

    async def _emit_outcome(
        self, action: planner.Action, rid: int | None, reason: str | None
    ) -> None:
        """Record the action's event: ok, or failed with the agent's reason."""
        await self.ctx.events.emit(
            action.kind,
            action.verb,
            "ok" if reason is None else "failed",
            resource_id=rid,
            resource_name=action.name,
            host_id=self.host_id,
            reason=reason,
        )

    async def _restart_generation(self, cid: int) -> int | None:
        """The restart generation asked for now (None: the container is gone)."""
        async with self.ctx.sessions() as session:
            row = await session.get(Container, cid)
            return row.restart_generation if row is not None else None

    async def _record_applied(
        self,
        cid: int,
        state: ContainerState | None,
        links: list[LinkTarget] | None,
        restarted: int | None,
    ) -> None:
        """Record what an action did: fresh state, the link set pushed, the restart done."""
        async with self.ctx.sessions() as session:
            row = await session.get(Container, cid)
            if row is None:
                return
            record = observed_record(state, row.observed) if state else row.observed
            row.observed = record.after(links, restarted)
            await session.commit()

    async def _set_status(
        self,
        kind: str,
        rid: int,
        generation: int | None,
        status: ResourceStatus,
        reason: str | None,
    ) -> None:
        """Write a network's or container's status (unless a newer write made it pending)."""
        table = Network if kind == "network" else Container
        stmt = update(table).where(col(table.id) == rid).values(status=status, status_reason=reason)
        if status == ResourceStatus.converged:
            # Most passes change nothing: skip the write then.
            stmt = stmt.where(
                or_(col(table.status) != status, col(table.status_reason).is_not(None))
            )
        if generation is not None:
            # A write since this pass loaded the row wins: its status stays pending.
            stmt = stmt.where(col(table.generation) == generation)
        async with self.ctx.sessions() as session:
            await session.exec(stmt)
            await session.commit()

    async def _record_converged(
        self,
        plan: planner.Plan,
        generations: dict[tuple[str, int], int],
        failed: set[tuple[str, str]],
    ) -> None:
        """Converged for everything without a pending or failed action this pass."""
        failed_ids = {
            (a.kind, getattr(a, "id", 0)) for a in plan.actions if (a.kind, a.name) in failed
        }
        for (kind, rid), generation in generations.items():
            if (kind, rid) in failed_ids:
                continue
            await self._set_status(kind, rid, generation, ResourceStatus.converged, None)

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
