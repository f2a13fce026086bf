"""The cluster's processes: a dockerd and an agent per host, stopped by pid.

A killed test run leaves processes that no pid file may name (containerd, its
shims, the containers). They are found precisely, never by program name: a
process in one of the cluster's namespaces (same /proc/PID/ns/net inode), or in
the cgroup the host's dockerd puts its containers under (--cgroup-parent).
"""

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from controlplane.devcluster.layout import AGENT_PORT, HostLayout

CGROUP_ROOT = Path("/sys/fs/cgroup")
WG_SOCKETS = Path("/var/run/wireguard")


def alive(pid: int) -> bool:
    """Whether a process with this pid exists (and is not a zombie)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def read_pid(path: Path) -> int | None:
    """The pid in a pid file, or None."""
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


def wait_for(check: Callable[[], bool], timeout: float, what: str, log: Path | None = None) -> None:
    """Poll `check` until true; on timeout raise with the log's tail."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            tail = ""
            if log is not None and log.exists():
                tail = "\n" + "\n".join(log.read_text(errors="replace").splitlines()[-15:])
            raise TimeoutError(f"{what} did not come up within {timeout:.0f}s{tail}")
        time.sleep(0.2)


def _spawn(args: list[str], log: Path, env: dict[str, str] | None = None) -> int:
    """Start a detached process (own session, output to log); its pid."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        proc = subprocess.Popen(
            args,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            start_new_session=True,
        )
    return proc.pid


def start_dockerd(host: HostLayout) -> int:
    """dockerd inside the host's namespace (nsenter, not `ip netns exec`: that remounts /sys)."""
    for path in (host.data_root, host.exec_root):
        path.mkdir(parents=True, exist_ok=True)
    args = [
        "nsenter",
        f"--net={host.netns_path}",
        "dockerd",
        "--data-root",
        str(host.data_root),
        "--exec-root",
        str(host.exec_root),
        "--pidfile",
        str(host.dockerd_pidfile),
        "-H",
        host.docker_url,
        "--bip",
        host.bip,
        "--cgroup-parent",
        host.cgroup_parent,
        "--containerd-namespace",
        host.name,
        "--containerd-plugins-namespace",
        f"{host.name}-plugins",
    ]
    return _spawn(args, host.dir / "dockerd.log")


def start_agent(host: HostLayout, token_file: Path) -> int:
    """`weft agent` inside the host's namespace, on its underlay address, on its engine."""
    args = [
        "nsenter",
        f"--net={host.netns_path}",
        sys.executable,
        "-m",
        "controlplane.cli",
        "agent",
        "--listen",
        f"{host.address}:{AGENT_PORT}",
        "--token-file",
        str(token_file),
        "--docker-url",
        host.docker_url,
    ]
    env = {k: v for k, v in os.environ.items() if not k.startswith("WEFT_")}
    env["WEFT_AGENT_ADVERTISE_ADDRESSES"] = f'["{host.address}"]'
    env["WEFT_AGENT_SPOOL_DIR"] = str(host.dir)
    env["WEFT_AGENT_STATE_DIR"] = str(host.dir)
    # *.weave.local on every address of the host; other names have nowhere to go (no uplink).
    env["WEFT_AGENT_DNS_LISTEN"] = "0.0.0.0:53"
    env["WEFT_AGENT_DNS_UPSTREAMS"] = "[]"
    pid = _spawn(args, host.dir / "agent.log", env)
    host.agent_pidfile.write_text(f"{pid}\n")
    return pid


def stop(pid: int | None, timeout: float = 20.0) -> None:
    """SIGTERM the process, wait, then SIGKILL; a gone process is fine."""
    if pid is None or not alive(pid):
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    if alive(pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def _netns_inode(path: Path) -> int | None:
    try:
        return path.stat().st_ino
    except OSError:
        return None


def pids_in_netns(path: Path) -> list[int]:
    """Processes whose network namespace is the one bound at `path`."""
    inode = _netns_inode(path)
    if inode is None:
        return []
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if os.stat(proc / "ns" / "net").st_ino == inode:
                found.append(int(proc.name))
        except OSError:
            continue
    return found


def _cgroup_dirs(parent: str) -> list[Path]:
    """The cgroup v1 directories named `parent`, in every controller (deepest first)."""
    dirs: list[Path] = []
    if not CGROUP_ROOT.is_dir():
        return dirs
    for controller in CGROUP_ROOT.iterdir():
        top = controller / parent
        if top.is_dir():
            dirs.extend(sorted((p for p in top.rglob("*") if p.is_dir()), reverse=True))
            dirs.append(top)
    return dirs


def pids_in_cgroup(parent: str) -> list[int]:
    """Processes in the cgroup tree `parent` (a host's containers)."""
    pids: set[int] = set()
    for d in _cgroup_dirs(parent):
        with contextlib.suppress(OSError, ValueError):
            pids.update(int(p) for p in (d / "cgroup.procs").read_text().split())
    return sorted(pids)


def wireguard_sockets(pids: list[int]) -> list[Path]:
    """The control sockets of the wireguard-go processes among `pids` (SIGKILL leaves them)."""
    out = []
    for pid in pids:
        try:
            argv = [a.decode() for a in Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0") if a]
        except OSError:
            continue
        if len(argv) >= 2 and argv[0].endswith("wireguard-go"):
            out.append(WG_SOCKETS / f"{argv[-1]}.sock")  # wireguard-go [-f] IFNAME
    return out


def kill_all(pids: list[int]) -> None:
    """SIGKILL each pid (they are ours: found in our namespace or cgroup) and reap-wait."""
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while any(alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.1)


def remove_cgroups(parent: str) -> None:
    """rmdir the (now empty) cgroup tree `parent` in every controller."""
    for d in _cgroup_dirs(parent):
        with contextlib.suppress(OSError):
            d.rmdir()


def unmount_under(*roots: Path) -> None:
    """Lazily unmount every mount point under the roots (overlays, netns files, shm)."""
    prefixes = tuple(str(r).rstrip("/") + "/" for r in roots)
    points = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        point = line.split()[4].replace("\\040", " ")
        if point.startswith(prefixes) or point + "/" in prefixes:
            points.append(point)
    for point in sorted(points, key=len, reverse=True):
        subprocess.run(["umount", "-l", point], capture_output=True)
