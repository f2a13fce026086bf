"""Keep links across restarts: re-apply link sets when the engine starts a weft container.

Docker rebuilds a container's /etc/hosts at every start, dropping weft's block.
A thread follows the engine's `start` events of weft containers and re-applies
the link set stored in the container. At start-up it also sweeps the running
weft containers, in case some restarted while the agent was down.

The same thread drops the container states the agent keeps between lists
(`driver.inspections`) at each container's events, and counts every start, die,
destroy and health change of weft's containers in `ChangeCount`,
which the control plane long-polls (`GET /v1/changes`) so a stopped or restarted
container is in every host's DNS within a second instead of at the next reconcile
pass, and a stack's dependents start as soon as their dependency turns healthy.
When a container joins or leaves a network, the thread also marks it for the
overlay fast path's own thread (`overlay.fastpath.Keeper`), which re-syncs it if
it is an overlay.
"""

import asyncio
import contextlib
import logging
import threading
import uuid
from typing import Any

import docker

from controlplane.agent.driver import inspections, linkset
from controlplane.agent.overlay import fastpath
from controlplane.contract import labels as L

log = logging.getLogger(__name__)


class ChangeCount:
    """A counter of container events that callers can wait on, without a thread each.

    The failure this prevents: a long poll that parks a worker thread for up to a
    minute. The agent's blocking Docker calls share one small thread pool (40), so
    40 open polls (a control plane reconnecting, or anyone holding the token) used
    to stall every other route until they timed out. A waiter is now a future on
    its event loop; `bump` runs on the event-stream thread and wakes each one there.
    """

    def __init__(self) -> None:
        self.boot = uuid.uuid4().hex
        self.seq = 0
        self._lock = threading.Lock()
        self._waiters: set[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = set()

    @property
    def waiting(self) -> int:
        """How many callers wait for the count to move."""
        return len(self._waiters)

    def bump(self) -> None:
        """One more event: wake every waiter (from any thread)."""
        with self._lock:
            self.seq += 1
            woken = list(self._waiters)
        for loop, future in woken:
            with contextlib.suppress(RuntimeError):  # (its loop has closed: nobody waits)
                loop.call_soon_threadsafe(_settle, future)

    async def wait(self, after: int, timeout: float) -> int:
        """The count once it differs from `after`, or at the timeout."""
        loop = asyncio.get_running_loop()
        waiter = (loop, loop.create_future())
        with self._lock:
            if self.seq != after:
                return self.seq
            self._waiters.add(waiter)
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(waiter[1], timeout)
        finally:
            with self._lock:
                self._waiters.discard(waiter)
        return self.seq


def _settle(future: "asyncio.Future[None]") -> None:
    if not future.done():
        future.set_result(None)


# What the control plane is told about (GET /v1/changes). health_status: Docker
# sends it only when a check's result changes; the control plane then sees
# "healthy" at once (a stack's dependents wait on it).
_COUNTED = ("start", "die", "destroy", "health_status")


class LinkKeeper:
    """A daemon thread that re-applies links on container start events (and counts events)."""

    def __init__(self, client: docker.DockerClient) -> None:
        self.changes = ChangeCount()
        self.inspections = inspections.follow(client)
        self._client = client
        self._stream: Any = None
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="weft-link-keeper", daemon=True)
        self.ready = threading.Event()
        self.fast_path = fastpath.Keeper(client)

    def start(self) -> None:
        """Subscribe to events, then sweep, then follow the stream (in the thread)."""
        self._thread.start()
        self.fast_path.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Close the event stream and wait for the thread."""
        self._stopping.set()
        stream = self._stream
        if stream is not None:
            try:
                stream.close()
            except Exception:  # closing a half-read HTTP stream may raise; we are done anyway
                log.debug("closing the event stream", exc_info=True)
        self._thread.join(timeout)
        self.fast_path.stop(timeout)

    def _run(self) -> None:
        # Every container's events and its network joins and leaves: each one drops
        # what `inspections` keeps of it. Only weft's own count and get links back.
        filters = {"type": ["container", "network"]}
        while not self._stopping.is_set():
            try:
                self._stream = self._client.events(decode=True, filters=filters)
                self.inspections.following()
                self._sweep()
                self.ready.set()
                for event in self._stream:
                    self._seen(event)
            except Exception:
                if self._stopping.is_set():
                    return
                log.warning("docker event stream failed; re-subscribing", exc_info=True)
                self._stopping.wait(2.0)
            finally:  # events may go unseen until the next subscription
                self.inspections.lost()

    def _seen(self, event: dict[str, Any]) -> None:
        actor = event.get("Actor") or {}
        attributes = actor.get("Attributes") or {}
        action = (event.get("Action") or "").partition(":")[0]
        if event.get("Type") == "network":
            if cid := attributes.get("container"):
                self.inspections.changed(cid)
            if action in ("connect", "disconnect") and (name := attributes.get("name")):
                self.fast_path.mark(name)  # an overlay's fast path follows its containers
            return
        cid = actor.get("ID") or ""
        self.inspections.changed(cid, gone=action == "destroy")
        if attributes.get(L.MANAGED) != L.MANAGED_VALUE or action not in _COUNTED:
            return
        if action == "start":
            linkset.reapply(self._client, cid)
        elif action == "destroy":
            linkset.not_bare(cid)
        self.changes.bump()

    def _sweep(self) -> None:
        filters = {"status": "running", "label": f"{L.MANAGED}={L.MANAGED_VALUE}"}
        for summary in self._client.api.containers(filters=filters):
            linkset.reapply(self._client, summary["Id"])
