"""The control plane and a local agent as containers on this host's engine.

Like `weave launch`, this is the one place weft starts its own parts with the
Docker SDK: both on the host's network, restarting with dockerd (`unless-stopped`),
the agent with the Docker socket and its token (0600), the control plane with
its state directory (0700: database, admin token, sealing key) from the host, so
`weft` on the host finds the admin token where it looks by default.
"""

import contextlib
import os
import secrets
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import docker
import docker.errors
from docker.models.containers import Container

from controlplane.build.errors import BuildError
from controlplane.build.images import image_ref

LAUNCH_LABEL = "weft.launch"


class LaunchError(BuildError):
    """A part did not come up; the message says which and why (with its last log lines)."""


@dataclass(frozen=True)
class Site:
    """Names, ports and paths of one launched control plane (tests run theirs beside)."""

    prefix: str = "weft"
    stack: str = "world"
    api_port: int = 8000
    agent_port: int = 7946
    search_port: int = 8080
    state_dir: Path = Path("/var/lib/weft")
    agent_token_file: Path = Path("/etc/weft/agent.token")
    labels: dict[str, str] = field(default_factory=dict)

    @property
    def agent(self) -> str:
        """The agent container's name."""
        return f"{self.prefix}-agent"

    @property
    def controlplane(self) -> str:
        """The control plane container's name."""
        return f"{self.prefix}-controlplane"

    @property
    def api_url(self) -> str:
        """Where the control plane answers."""
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def agent_url(self) -> str:
        """Where the agent answers (on the host's loopback)."""
        return f"http://127.0.0.1:{self.agent_port}"

    @property
    def admin_token_file(self) -> Path:
        """The admin token the control plane writes on first start."""
        return self.state_dir / "admin.token"

    @property
    def secrets_dir(self) -> Path:
        """Where the world stack's database password is kept (0700, beside the state)."""
        return self.state_dir.with_name(self.state_dir.name + "-secrets")


def secret_file(path: Path) -> str:
    """The secret in path, made once (0600 in a 0700 folder) and read back after."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    if not path.exists() or not path.read_text().strip():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_urlsafe(24))
    os.chmod(path, 0o600)
    return path.read_text().strip()


def ensure_parts(site: Site, client: docker.DockerClient) -> None:
    """Start (or keep) the agent and the control plane; wait until both are healthy."""
    secret_file(site.agent_token_file)
    site.state_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    agent = _run(
        client,
        site,
        site.agent,
        image_ref("agent"),
        environment={
            "WEFT_AGENT_LISTEN": f"127.0.0.1:{site.agent_port}",
            "WEFT_AGENT_TOKEN_FILE": "/etc/weft/agent.token",
        },
        volumes={
            "/var/run/docker.sock": {"bind": "/var/run/docker.sock", "mode": "rw"},
            "/var/lib/docker/containers": {"bind": "/var/lib/docker/containers", "mode": "rw"},
            str(site.agent_token_file): {"bind": "/etc/weft/agent.token", "mode": "ro"},
        },
    )
    controlplane = _run(
        client,
        site,
        site.controlplane,
        image_ref("controlplane"),
        environment={
            "WEFT_LISTEN": f"127.0.0.1:{site.api_port}",
            "WEFT_STATE_DIR": "/var/lib/weft",
        },
        volumes={str(site.state_dir): {"bind": "/var/lib/weft", "mode": "rw"}},
    )
    # Asked directly rather than through Docker's health status: that one is first
    # checked a whole health interval after the start (Docker 20.10 has no start
    # interval), which left `make up` idle for 15 s.
    wait_answering(agent, f"http://127.0.0.1:{site.agent_port}/healthz", timeout=120)
    wait_answering(controlplane, f"{site.api_url}/healthz", timeout=120)


def _run(
    client: docker.DockerClient, site: Site, name: str, image: str, **kwargs: Any
) -> Container:
    """The container `name` from `image`; one made from another image is replaced."""
    try:
        existing = client.containers.get(name)
    except docker.errors.NotFound:
        existing = None
    if existing is not None:
        if existing.image is not None and existing.image.id == client.images.get(image).id:
            if existing.status != "running":
                existing.start()
            return existing
        existing.remove(force=True)
    return client.containers.run(
        image,
        name=name,
        detach=True,
        network_mode="host",
        labels={LAUNCH_LABEL: site.prefix, **site.labels},
        restart_policy={"Name": "unless-stopped"},
        **kwargs,
    )


def wait_answering(container: Container, url: str, timeout: float) -> None:
    """Poll `url` until it answers 200 while the container runs, or fail with its last logs."""
    deadline = time.monotonic() + timeout
    status = "created"
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=2) as resp:
            if resp.status == 200:
                return
        container.reload()
        status = container.status
        if status in ("exited", "dead"):
            break
        time.sleep(0.2)
    logs = container.logs(tail=20).decode(errors="replace")
    raise LaunchError(f"{container.name} did not answer at {url} (state {status})\n{logs}")


def wait_healthy(container: Container, timeout: float) -> None:
    """Poll the container's health check until it passes, or fail with its last output."""
    deadline = time.monotonic() + timeout
    state: dict[str, Any] = {}
    while time.monotonic() < deadline:
        container.reload()
        state = container.attrs["State"]
        if state.get("Health", {}).get("Status") == "healthy":
            return
        if state.get("Status") in ("exited", "dead"):
            break
        time.sleep(0.5)
    logs = container.logs(tail=20).decode(errors="replace")
    raise LaunchError(
        f"{container.name} did not become healthy (state {state.get('Status')})\n{logs}"
    )


def remove_parts(site: Site, client: docker.DockerClient) -> list[str]:
    """Remove the agent and control plane containers this site launched; their names."""
    gone = []
    for container in client.containers.list(
        all=True, filters={"label": f"{LAUNCH_LABEL}={site.prefix}"}
    ):
        container.remove(force=True)
        gone.append(str(container.name))
    return gone


def remove_matching(
    client: docker.DockerClient,
    match: Callable[[str, dict[str, str] | None], bool],
    tolerate: type[Exception] = docker.errors.APIError,
) -> None:
    """Remove the containers, networks and volumes whose (name, labels) `match` says are ours.

    Networks and volumes that fail to go with `tolerate` are left; containers that
    vanished meanwhile are fine.
    """
    # Summaries, not full objects: a container may vanish between list and remove.
    for c in client.api.containers(all=True):
        if any(match(n.lstrip("/"), c.get("Labels")) for n in c["Names"]):
            with contextlib.suppress(docker.errors.NotFound):
                client.api.remove_container(c["Id"], force=True, v=True)
    for n in client.api.networks():
        if match(n["Name"], n.get("Labels")):
            with contextlib.suppress(tolerate):
                client.api.remove_network(n["Id"])
    for v in client.api.volumes().get("Volumes") or []:
        if match(v["Name"], v.get("Labels")):
            with contextlib.suppress(tolerate):
                client.api.remove_volume(v["Name"], force=True)
