"""Real `weft agent` and `weft server` processes for control-plane tests (test helper).

Both run as subprocesses on free 127.0.0.1 ports and are stopped by pid. What the
control plane creates through them is named with the test's `wefttestcp-` prefix
and labelled with the test control plane's own `weft.owner`, and removed by that
(not by the shared `weft.test` label: other engineers' test sessions force-remove
everything with that label at their start, which would race these tests while
they run side by side on one dockerd).
"""

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import docker
import httpx

from controlplane.contract import labels as L
from controlplane.devcluster.cluster import free_port
from tests.eventually import eventually
from tests.harness import remove_matching, unique

AGENT_TOKEN = "wefttest-agent-token-0123456789"
# A container that starts at once and stops on SIGTERM (python as PID 1 ignores it).
IDLE = [
    "python3",
    "-c",
    "import signal, sys, time; signal.signal(signal.SIGTERM, lambda *_: sys.exit(0)); "
    "time.sleep(10**6)",
]


# Start-up imports the whole app: seconds on an idle machine, tens of seconds on a
# loaded one (2 cores under a parallel test session), never minutes.
START_S = 120.0


def wait_until(check: Callable[[], Any], timeout: float = 60.0, every: float = 0.2) -> Any:
    """`eventually`, with the patience processes starting up need."""
    return eventually(check, timeout, every)


@dataclass
class Proc:
    """One subprocess we started (and only we stop, by its pid)."""

    args: list[str]
    log: Path
    env: dict[str, str]
    health_url: str
    popen: subprocess.Popen[bytes] | None = None
    verify: Any = True

    def start(self) -> "Proc":
        """Start and wait for /healthz."""
        with self.log.open("ab") as out:
            self.popen = subprocess.Popen(
                self.args,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=self.env,
                start_new_session=True,
            )
        try:
            wait_until(self._healthy, START_S)
        except BaseException:
            self.stop()  # never leave a process behind when start-up fails
            raise
        return self

    def _healthy(self) -> bool:
        assert self.popen is not None
        if (code := self.popen.poll()) is not None:  # dead: say why now, not at the deadline
            tail = self.log.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"{self.args[:3]} exited with {code} during start-up:\n{tail}")
        return httpx.get(self.health_url, timeout=1, verify=self.verify).status_code == 200

    @property
    def pid(self) -> int:
        """The process id."""
        assert self.popen is not None
        return self.popen.pid

    def kill(self) -> None:
        """SIGKILL, no goodbye (a crash)."""
        assert self.popen is not None
        os.kill(self.popen.pid, signal.SIGKILL)
        self.popen.wait(10)

    def stop(self) -> None:
        """SIGTERM and wait (SIGKILL if it hangs)."""
        if self.popen is None or self.popen.poll() is not None:
            return
        os.kill(self.popen.pid, signal.SIGTERM)
        try:
            self.popen.wait(15)
        except subprocess.TimeoutExpired:
            self.kill()


def _env(extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WEFT_")}
    env.pop("DATABASE_URL", None)
    return {**env, **extra}


def agent_proc(tmp: Path, tls: list[str] | None = None) -> Proc:
    """A `weft agent` on a free port with a token file (not started); TLS args optional."""
    port = free_port()
    token = tmp / "agent.token"
    token.write_text(AGENT_TOKEN)
    token.chmod(0o600)
    args = [
        sys.executable,
        "-m",
        "controlplane.cli",
        "agent",
        "--listen",
        f"127.0.0.1:{port}",
        "--token-file",
        str(token),
        *(tls or []),
    ]
    scheme = "https" if tls else "http"
    return Proc(args, tmp / "agent.log", _env({}), f"{scheme}://127.0.0.1:{port}/healthz")


def server_proc(tmp: Path, env_extra: dict[str, str] | None = None) -> Proc:
    """A `weft server` with its state dir under tmp, reconciling every second (not started)."""
    port = free_port()
    args = [
        sys.executable,
        "-m",
        "controlplane.cli",
        "server",
        "--listen",
        f"127.0.0.1:{port}",
        "--state-dir",
        str(tmp / "state"),
    ]
    env = _env(
        {
            "WEFT_RECONCILE_INTERVAL": "1",
            "WEFT_BACKOFF_MAX": "1",
            "WEFT_WAIT_TIMEOUT": "60",
            **(env_extra or {}),
        }
    )
    return Proc(args, tmp / "server.log", env, f"http://127.0.0.1:{port}/healthz")


@dataclass
class Stack:
    """An agent, a control plane, and an API client holding the admin token."""

    tmp: Path
    agent: Proc
    server: Proc
    prefix: str
    host_id: int = 0
    _api: httpx.Client | None = field(default=None, repr=False)

    @property
    def agent_url(self) -> str:
        """Base URL of the agent."""
        return self.agent.health_url.removesuffix("/healthz")

    @property
    def url(self) -> str:
        """Base URL of the control plane."""
        return self.server.health_url.removesuffix("/healthz")

    @property
    def api(self) -> httpx.Client:
        """A client with the admin token (re-made after a server restart)."""
        if self._api is None:
            token = (self.tmp / "state" / "admin.token").read_text().strip()
            self._api = httpx.Client(
                base_url=self.url, timeout=90, headers={"Authorization": f"Bearer {token}"}
            )
        return self._api

    def call(self, method: str, path: str, status: int | None = None, **kw: Any) -> Any:
        """An API call; asserts the status when given; returns JSON (or None)."""
        r = self.api.request(method, path, **kw)
        if status is not None:
            assert r.status_code == status, f"{method} {path}: {r.status_code} {r.text}"
        return r.json() if r.content else None

    def register(self) -> int:
        """Register the agent as a host."""
        h = self.call(
            "POST",
            "/hosts",
            201,
            json={
                "name": f"{self.prefix}-host",
                "agent_url": self.agent_url,
                "agent_token": AGENT_TOKEN,
            },
        )
        self.host_id = int(h["id"])
        return self.host_id

    def owner(self) -> str:
        """The control plane's weft.owner value."""
        return str(self.call("GET", "/info", 200)["owner"])

    def close(self) -> None:
        """Stop both processes."""
        if self._api is not None:
            self._api.close()
        self.server.stop()
        self.agent.stop()


def start_stack(tmp: Path, prefix: str, server_env: dict[str, str] | None = None) -> Stack:
    """Agent and control plane up, the agent registered."""
    stack = Stack(tmp, agent_proc(tmp).start(), server_proc(tmp, server_env), prefix)
    try:
        stack.server.start()
        stack.register()
    except BaseException:
        stack.close()
        raise
    return stack


@contextlib.contextmanager
def running_stack(
    client: docker.DockerClient, tmp: Path, server_env: dict[str, str] | None = None
) -> Iterator[Stack]:
    """`start_stack` under a fresh prefix; afterwards both stop and what they made goes."""
    prefix = unique("wefttestcp")
    stack = start_stack(tmp, prefix, server_env)
    try:
        yield stack
    finally:
        stack.close()
        remove_prefixed(client, prefix)


def ours(client: docker.DockerClient, owner: str) -> list[Any]:
    """Containers (any state) that this control plane owns, by label."""
    return client.containers.list(all=True, filters={"label": f"{L.OWNER}={owner}"})


def remove_prefixed(client: docker.DockerClient, prefix: str) -> None:
    """Remove containers, networks and volumes whose names start with prefix."""
    remove_matching(
        client, lambda name, _labels: name.startswith(prefix), tolerate=docker.errors.NotFound
    )
