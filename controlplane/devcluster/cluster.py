"""Bring a test cluster up and down, and clear what a killed run left behind.

The state file is written before anything is created, so a run killed at any
point leaves a record of what to remove; `down` also works from the name alone
(namespaces, links, iptables comments and directories all carry it), and `up`
of a name first removes whatever an earlier run of that name left.
"""

import contextlib
import os
import secrets
import shutil
import socket
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import docker
import httpx
from pydantic import BaseModel
from pyroute2 import IPRoute

from controlplane.devcluster import netns, procs
from controlplane.devcluster.layout import (
    RUN_ROOT,
    STATE_ROOT,
    ClusterLayout,
    HostLayout,
    pick_underlay,
    root_port_name,
    switch_name,
)

STATE_FILE = "state.json"
TOKEN_FILE = "agent.token"


class ClusterRecord(BaseModel):
    """What `state.json` holds: enough to rebuild the layout and to judge ownership."""

    name: str
    underlay: str
    host_count: int
    # The process that owns the cluster (a test session); None: detached (`weft dev cluster`).
    owner_pid: int | None = None
    owner_start: str | None = None
    server_url: str | None = None
    server_pid: int | None = None


def _start_time(pid: int) -> str | None:
    """The process's start time in clock ticks (tells a reused pid from the original)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def _read_record(directory: Path) -> ClusterRecord | None:
    try:
        return ClusterRecord.model_validate_json((directory / STATE_FILE).read_text())
    except (OSError, ValueError):
        return None


def _routes() -> list[str]:
    """The root namespace's routed prefixes (the underlay must overlap none)."""
    out = []
    with IPRoute() as ipr:
        for route in ipr.get_routes(family=socket.AF_INET):
            dst = route.get_attr("RTA_DST")
            if dst:
                out.append(f"{dst}/{route['dst_len']}")
    return out


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Cluster:
    """A running cluster: its layout, the agents' token, and its control plane (if any)."""

    layout: ClusterLayout
    record: ClusterRecord
    token: str
    host_ids: dict[str, int] = field(default_factory=dict)
    _admin: str | None = field(default=None, repr=False)

    @property
    def hosts(self) -> list[HostLayout]:
        """The hosts, h1 first."""
        return self.layout.hosts()

    @property
    def server_url(self) -> str | None:
        """The control plane's URL, when the cluster started one."""
        return self.record.server_url

    @property
    def admin_token(self) -> str:
        """The control plane's admin token."""
        if self._admin is None:
            self._admin = (self.layout.dir / "cp" / "admin.token").read_text().strip()
        return self._admin

    def engine(self, host: HostLayout) -> docker.DockerClient:
        """A docker SDK client of the host's own engine (for tests' checks)."""
        return docker.DockerClient(base_url=host.docker_url, timeout=120)

    def agent(self, host: HostLayout) -> httpx.Client:
        """An HTTP client of the host's agent, with its token."""
        return httpx.Client(
            base_url=host.agent_url, timeout=600, headers={"Authorization": f"Bearer {self.token}"}
        )

    def load_image(self, ref: str, source: docker.DockerClient | None = None) -> None:
        """Copy an image from the root engine to every host through the agents' image API."""
        client = source or docker.from_env(timeout=600)
        try:
            tarball = self.layout.dir / "image.tar"
            with tarball.open("wb") as f:
                for chunk in client.images.get(ref).save(named=True):
                    f.write(chunk)
        finally:
            if source is None:
                client.close()
        try:

            def push(host: HostLayout) -> None:
                with self.agent(host) as agent, tarball.open("rb") as body:
                    r = agent.put("/v1/images", content=body)
                    r.raise_for_status()

            with ThreadPoolExecutor(len(self.hosts)) as pool:
                list(pool.map(push, self.hosts))
        finally:
            tarball.unlink(missing_ok=True)

    def api(self) -> httpx.Client:
        """An HTTP client of the cluster's control plane, with the admin token."""
        assert self.server_url, "this cluster runs no control plane"
        headers = {"Authorization": f"Bearer {self.admin_token}"}
        return httpx.Client(base_url=self.server_url, headers=headers, timeout=120)

    def register(self) -> dict[str, int]:
        """Register every host with the cluster's control plane; host name -> id."""
        ids: dict[str, int] = {}
        with self.api() as api:
            for host in self.hosts:
                body = {"name": host.name, "agent_url": host.agent_url, "agent_token": self.token}
                r = api.post("/hosts", json=body)
                r.raise_for_status()
                ids[host.name] = int(r.json()["id"])
        self.host_ids = ids
        return ids


def _start_host(host: HostLayout, layout: ClusterLayout, token_file: Path) -> None:
    netns.ensure_host_net(host, layout)
    procs.start_dockerd(host)
    procs.wait_for(
        host.docker_socket.exists, 60, f"dockerd of {host.name}", host.dir / "dockerd.log"
    )
    engine = docker.DockerClient(base_url=host.docker_url, timeout=30)
    try:
        procs.wait_for(_pings(engine), 60, f"dockerd of {host.name}", host.dir / "dockerd.log")
    finally:
        engine.close()
    procs.start_agent(host, token_file)
    procs.wait_for(_answers(host.agent_url), 60, f"agent of {host.name}", host.dir / "agent.log")


def _pings(engine: docker.DockerClient) -> Callable[[], bool]:
    def check() -> bool:
        try:
            return bool(engine.ping())
        except docker.errors.DockerException:
            return False

    return check


def _answers(url: str) -> Callable[[], bool]:
    def check() -> bool:
        try:
            return httpx.get(f"{url}/healthz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    return check


def _start_server(layout: ClusterLayout, env: dict[str, str]) -> tuple[str, int]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    args = [sys.executable, "-m", "controlplane.cli", "server", "--listen", f"127.0.0.1:{port}"]
    args += ["--state-dir", str(layout.dir / "cp")]
    base = {k: v for k, v in os.environ.items() if not k.startswith("WEFT_")}
    base.pop("DATABASE_URL", None)
    pid = procs._spawn(args, layout.dir / "server.log", {**base, **env})
    (layout.dir / "server.pid").write_text(f"{pid}\n")
    procs.wait_for(_answers(url), 60, "the control plane", layout.dir / "server.log")
    return url, pid


def up(
    name: str,
    host_count: int,
    *,
    underlay: str | None = None,
    server: bool = True,
    server_env: dict[str, str] | None = None,
    owner_pid: int | None = None,
    state_root: Path = STATE_ROOT,
) -> Cluster:
    """Create the cluster (removing an earlier one of this name first); started hosts answer."""
    down(name, state_root=state_root)
    layout = ClusterLayout(name, underlay or pick_underlay(name, _routes()), host_count, state_root)
    record = ClusterRecord(name=name, underlay=layout.underlay, host_count=host_count)
    if owner_pid is not None:
        record.owner_pid, record.owner_start = owner_pid, _start_time(owner_pid)
    layout.dir.mkdir(parents=True, exist_ok=True)
    (layout.dir / STATE_FILE).write_text(record.model_dump_json())
    try:
        token = secrets.token_hex(24)
        token_file = layout.dir / TOKEN_FILE
        token_file.touch(mode=0o600)
        token_file.write_text(token)
        netns.ensure_switch(layout)
        for host in layout.hosts():
            host.dir.mkdir(parents=True, exist_ok=True)
        with ThreadPoolExecutor(host_count) as pool:
            list(pool.map(lambda h: _start_host(h, layout, token_file), layout.hosts()))
        if server:
            record.server_url, record.server_pid = _start_server(layout, server_env or {})
            (layout.dir / STATE_FILE).write_text(record.model_dump_json())
    except BaseException:
        down(name, state_root=state_root)
        raise
    return Cluster(layout, record, token)


def _host_names(name: str, record: ClusterRecord | None, run_root: Path) -> list[str]:
    """Every host name of the cluster that anything on the machine still carries."""
    prefix = f"{name}-h"
    names = set(netns.namespaces_with_prefix(prefix)) | set(netns.links_with_prefix(prefix))
    if record is not None:
        names |= {f"{name}-h{i}" for i in range(1, record.host_count + 1)}
    with contextlib.suppress(OSError):
        names |= {p.name for p in run_root.iterdir() if p.name.startswith(prefix)}
    return sorted(n for n in names if n[len(prefix) :].isdigit())


def _stop_host(host: str, directory: Path, run_root: Path) -> None:
    """Stop the agent and dockerd gently, then kill whatever is left in the namespace."""
    procs.stop(procs.read_pid(directory / host / "agent.pid"), timeout=10)
    procs.stop(procs.read_pid(run_root / host / "dockerd.pid"), timeout=30)
    inside = procs.pids_in_netns(Path("/var/run/netns") / host)
    sockets = procs.wireguard_sockets(inside)
    procs.kill_all(inside)
    for sock in sockets:
        sock.unlink(missing_ok=True)
    procs.kill_all(procs.pids_in_cgroup(host))
    procs.remove_cgroups(host)


def down(name: str, *, state_root: Path = STATE_ROOT, run_root: Path = RUN_ROOT) -> None:
    """Remove all of cluster `name`: processes, mounts, namespaces, links, rules, files."""
    directory = state_root / name
    record = _read_record(directory)
    if record is not None and record.server_pid is not None:
        procs.stop(record.server_pid)
    procs.stop(procs.read_pid(directory / "server.pid"))
    hosts = _host_names(name, record, run_root)
    if hosts:
        with ThreadPoolExecutor(len(hosts)) as pool:
            list(pool.map(lambda h: _stop_host(h, directory, run_root), hosts))
    procs.unmount_under(directory, *(run_root / h for h in hosts))
    for host in hosts:
        netns.remove_link(host)  # a root-namespace veth of clusters made by older code
        netns.remove_netns(host)
        shutil.rmtree(run_root / host, ignore_errors=True)
    switch = switch_name(name)
    procs.kill_all(procs.pids_in_netns(Path("/var/run/netns") / switch))  # a capture, say
    # The root's port goes now, not when the kernel gets round to the dead switch namespace.
    netns.remove_link(root_port_name(name))
    netns.remove_netns(switch)
    for link in netns.links_with_prefix(f"{name}-p"):  # older code's temporary veth names
        netns.remove_link(link)
    netns.remove_rules(f"weft-cluster:{name}")
    shutil.rmtree(directory, ignore_errors=True)


def owner_alive(record: ClusterRecord | None) -> bool:
    """Whether the cluster's owning process still runs (a detached cluster has none)."""
    if record is None or record.owner_pid is None:
        return False
    return procs.alive(record.owner_pid) and _start_time(record.owner_pid) == record.owner_start


def leftovers(prefix: str, state_root: Path = STATE_ROOT) -> list[str]:
    """Names of clusters starting with `prefix` whose owning process is gone."""
    names = {n.split("-")[0] for n in netns.namespaces_with_prefix(prefix)}
    names |= {n.split("-")[0] for n in netns.links_with_prefix(prefix)}
    with contextlib.suppress(OSError):
        names |= {p.name for p in state_root.iterdir() if p.name.startswith(prefix)}
    return sorted(n for n in names if not owner_alive(_read_record(state_root / n)))


def sweep(prefix: str, state_root: Path = STATE_ROOT) -> list[str]:
    """Take down every leftover cluster whose name starts with `prefix`; their names."""
    gone = leftovers(prefix, state_root)
    for name in gone:
        down(name, state_root=state_root)
    return gone
