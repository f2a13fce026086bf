"""All hosts' runners: started with the server, added and stopped with hosts."""

import asyncio
import contextlib
from collections.abc import Coroutine
from typing import Any

from sqlmodel import select

from controlplane.server.models import Host
from controlplane.server.reconcile.runner import Context, HostRunner
from controlplane.server.reconcile.watch import watch_changes


class Reconcilers:
    """Owns one runner task per host."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        ctx.on_addresses_changed = self._addresses_changed
        ctx.on_key_changed = self._key_changed
        self.runners: dict[int, HostRunner] = {}
        self.tasks: dict[int, asyncio.Task[None]] = {}
        # One change-feed watcher per host (reconcile.watch): kicks its runner on events.
        self.watchers: dict[int, asyncio.Task[None]] = {}
        # DNS pushes under way (kept so they are not garbage-collected mid-flight).
        self._pushes: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        """Start a runner for every registered host."""
        async with self.ctx.sessions() as session:
            ids = [h.id for h in await session.exec(select(Host)) if h.id is not None]
        for host_id in ids:
            self.ensure(host_id)

    def ensure(self, host_id: int) -> HostRunner:
        """The host's runner, started if needed."""
        runner = self.runners.get(host_id)
        if runner is None or self.tasks[host_id].done():  # ended: its host was deleted
            runner = self.runners[host_id] = HostRunner(host_id, self.ctx)
            self.tasks[host_id] = asyncio.create_task(runner.run(), name=f"reconcile-{host_id}")
            old = self.watchers.pop(host_id, None)
            if old is not None:
                old.cancel()
            self.watchers[host_id] = asyncio.create_task(
                watch_changes(host_id, self.ctx, lambda: self._changed(runner)),
                name=f"watch-{host_id}",
            )
        return runner

    def kick(self, host_id: int) -> None:
        """Reconcile that host now."""
        self.ensure(host_id).kick()

    async def wait_pass(self, host_id: int, timeout: float, kick: bool = True) -> bool:
        """Wait for a full pass of that host begun after now (kicked, or when due)."""
        return await self.ensure(host_id).next_pass(timeout, kick)

    async def settled(self, host_id: int, timeout: float) -> bool:
        """Wait for a pass of that host begun after now and its slow calls; False on timeout."""
        return await self.ensure(host_id).settled(timeout)

    def _changed(self, runner: HostRunner) -> None:
        # A container started, died or went on the host: its state now, then a full pass.
        self._spawn(runner.observe_now(), f"observe-{runner.host_id}")
        runner.kick()

    def _spawn(self, work: Coroutine[Any, Any, None], name: str) -> None:
        task = asyncio.create_task(work, name=name)
        self._pushes.add(task)
        task.add_done_callback(self._pushes.discard)

    def _addresses_changed(self, host_id: int) -> None:
        # Links from containers on other hosts may point at the container that moved,
        # and every host's DNS names it: pushed at once, not at each host's next pass.
        for other, runner in self.runners.items():
            if other != host_id:
                runner.kick()
            self._spawn(runner.push_dns(), f"dns-{other}")

    def _key_changed(self, host_id: int) -> None:
        # The hosts tunnelling to it must take its new key up now, not at their next pass.
        for other, runner in self.runners.items():
            if other != host_id:
                runner.kick()

    async def stop(self, host_id: int) -> None:
        """Stop the host's runner (the host is being removed)."""
        task = self.tasks.pop(host_id, None)
        runner = self.runners.pop(host_id, None)
        for t in (task, self.watchers.pop(host_id, None)):
            if t is not None:
                t.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await t
        if runner is not None:
            await runner.close()

    async def close(self) -> None:
        """Stop every runner (and the DNS pushes under way)."""
        for task in list(self._pushes):
            task.cancel()
        for host_id in list(self.runners):
            await self.stop(host_id)
