"""Keep links across restarts: re-apply link sets when the engine starts a weft container.

Docker rebuilds a container's /etc/hosts at every start, dropping weft's block.
A thread follows the engine's `start` events of weft containers and re-applies
the link set stored in the container. At start-up it also sweeps the running
weft containers, in case some restarted while the agent was down.

The same thread counts every start, die, destroy and health change in `ChangeCount`,
which the control plane long-polls (`GET /v1/changes`) so a stopped or restarted
container is in every host's DNS within a second instead of at the next reconcile
pass, and a stack's dependents start as soon as their dependency turns healthy.
"""

import logging
import threading
import uuid
from typing import Any

import docker

from controlplane.agent.driver import linkset
from controlplane.contract import labels as L

log = logging.getLogger(__name__)


class ChangeCount:
    """A counter of container events that callers can wait on."""

    def __init__(self) -> None:
        self.boot = uuid.uuid4().hex
        self.seq = 0
        self._moved = threading.Condition()

    def bump(self) -> None:
        """One more event: wake every waiter."""
        with self._moved:
            self.seq += 1
            self._moved.notify_all()

    def wait(self, after: int, timeout: float) -> int:
        """The count once it differs from `after`, or at the timeout (blocks a thread)."""
        with self._moved:
            self._moved.wait_for(lambda: self.seq != after, timeout)
            return self.seq


class LinkKeeper:
    """A daemon thread that re-applies links on container start events (and counts events)."""

    def __init__(self, client: docker.DockerClient) -> None:
        self.changes = ChangeCount()
        self._client = client
        self._stream: Any = None
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="weft-link-keeper", daemon=True)
        self.ready = threading.Event()

    def start(self) -> None:
        """Subscribe to events, then sweep, then follow the stream (in the thread)."""
        self._thread.start()

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

    def _run(self) -> None:
        filters = {
            "type": "container",
            # health_status: Docker sends it only when a check's result changes; the
            # control plane then sees "healthy" at once (a stack's dependents wait on it).
            "event": ["start", "die", "destroy", "health_status"],
            "label": f"{L.MANAGED}={L.MANAGED_VALUE}",
        }
        while not self._stopping.is_set():
            try:
                self._stream = self._client.events(decode=True, filters=filters)
                self._sweep()
                self.ready.set()
                for event in self._stream:
                    name = (event.get("Actor") or {}).get("Attributes", {}).get("name")
                    if name and event.get("Action") == "start":
                        linkset.reapply(self._client, name)
                    self.changes.bump()
            except Exception:
                if self._stopping.is_set():
                    return
                log.warning("docker event stream failed; re-subscribing", exc_info=True)
                self._stopping.wait(2.0)

    def _sweep(self) -> None:
        filters = {"status": "running", "label": f"{L.MANAGED}={L.MANAGED_VALUE}"}
        for summary in self._client.api.containers(filters=filters):
            linkset.reapply(self._client, summary["Id"])
