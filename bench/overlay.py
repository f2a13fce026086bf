"""Overlay benchmark (run by hand: `python -m bench.overlay`, as root; not a test).

Brings up a test cluster (hosts as network namespaces, each with its own dockerd
and agent; `controlplane.devcluster`), programs it through the agents' API as the
control plane would, and measures side by side in one run, alternating the runs
(A B C D, then D C B A, ...: this machine is noisy):

  bridge    two containers on one host's bridge network          (the baseline)
  overlay   a container on h1 to one on h2 across the VXLAN overlay
  slowpath  the same across a second overlay whose fast-path tables the bench
            removed, so its frames cross both hosts' bridges (what the fast path saves)
  underlay  h1 to h2 host to host on the underlay, no overlay     (the emulated wire)
  tunnel    h1 to h2 over a bare WireGuard tunnel (host to host)  (the engine's limit)
  encrypted a container on h1 to one on h2, VXLAN inside that tunnel

TCP throughput is iperf3's (Debian's, one stream), copied into the containers
with its two libraries (the base image is the same Debian); the underlay and
tunnel runs are iperf3 in the hosts' namespaces. The underlay run has no target:
it splits the overlay's gap into what two hosts and the emulated wire between
them cost on this one machine (underlay / bridge) and what VXLAN adds on top
(overlay / underlay). Then DNS convergence: a record set pushed to
every host's agent, timed until every host's responder answers the new address.

Everything it creates lives in the cluster, which is taken down at the end, on
Ctrl-C and on SIGTERM too; a run killed harder is swept by the next one.
"""

import argparse
import io
import json
import os
import signal
import statistics
import subprocess
import sys
import tarfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

import docker

from bench import overlaydns
from bench.overlaydns import Convergence
from controlplane.build.base import ensure_base
from controlplane.devcluster import cluster as devcluster
from controlplane.devcluster import procs
from controlplane.devcluster.layout import HostLayout, overlay_spec

PREFIX = "weftbo"
IPERF = "/opt/weft-iperf3"
IPERF_FILES = (
    "/usr/bin/iperf3",
    "/lib/x86_64-linux-gnu/libiperf.so.0",
    "/lib/x86_64-linux-gnu/libsctp.so.1",
)
ENV = {"LD_LIBRARY_PATH": IPERF}
IDLE = [
    "python3",
    "-c",
    "import signal, time; signal.signal(signal.SIGTERM, lambda *_: exit(0)); time.sleep(1e9)",
]
TUNNEL_NET = "10.250.0"
TUNNEL_PORT = 5201  # iperf3's default
UNDERLAY_PORT = 5202  # (the tunnel's server is in the same namespace)
SERVER_ENV = {"WEFT_WAIT_TIMEOUT": "120"}
SLOW_VNI = 4203
# Run in a host's namespace: remove an overlay's fast-path table (the agent leaves it
# removed until the overlay's containers change, which they do not during the runs).
_DROP_TABLE = (
    "import sys\nfrom controlplane.agent.overlay import fastpath\nfastpath.remove(int(sys.argv[1]))"
)


@dataclass
class Pair:
    """One measured path: run the client for `seconds`, get megabytes per second."""

    label: str
    run: Callable[[float], float]


def _iperf_tar() -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for path in IPERF_FILES:
            tar.add(os.path.realpath(path), arcname=f"{IPERF.lstrip('/')}/{Path(path).name}")
    return buf.getvalue()


def _mbps(report: str) -> float:
    data = json.loads(report)
    if "error" in data:
        raise RuntimeError(f"iperf3: {data['error']}")
    return float(data["end"]["sum_received"]["bits_per_second"]) / 8 / 1e6


def _agent(
    c: devcluster.Cluster, host: HostLayout, method: str, path: str, body: object = None
) -> dict:
    with c.agent(host) as agent:
        r = agent.request(method, path, json=body)
    if not r.is_success:
        raise RuntimeError(f"{host.name} {method} {path}: {r.status_code} {r.text}")
    return r.json() if r.content else {}


class Bench:
    """The cluster's datapaths and the containers at their ends."""

    def __init__(self, c: devcluster.Cluster, image: str) -> None:
        self.c, self.image = c, image
        self.h1, self.h2 = c.hosts[:2]
        self.engines = {h.name: c.engine(h) for h in c.hosts}
        self.tar = _iperf_tar()
        self.servers: list[subprocess.Popen[bytes]] = []

    def _ifname(self, host: HostLayout) -> str:
        return f"weftwg{self.c.layout.name[-4:]}{host.index}"

    def setup(self) -> None:
        """Bridge network, plain overlay, tunnels, encrypted overlay; iperf3 servers."""
        h1, h2 = self.h1, self.h2
        _agent(self.c, h1, "PUT", "/v1/networks/bench-br", {})
        keys = {h.name: _agent(self.c, h, "GET", "/v1/tunnel")["public_key"] for h in (h1, h2)}
        for me, peer in ((h1, h2), (h2, h1)):
            plain = overlay_spec(4201, me, 60, peers=[peer.address])
            _agent(self.c, me, "PUT", "/v1/overlays/bench-ov", plain.model_dump(mode="json"))
            tunnel = {
                "interface": self._ifname(me),
                "address": f"{TUNNEL_NET}.{me.index}/24",
                "peers": [
                    {
                        "public_key": keys[peer.name],
                        "endpoint": f"{peer.address}:51820",
                        "tunnel_address": f"{TUNNEL_NET}.{peer.index}",
                    }
                ],
            }
            _agent(self.c, me, "PUT", "/v1/tunnel", tunnel)
            local, remote = f"{TUNNEL_NET}.{me.index}", f"{TUNNEL_NET}.{peer.index}"
            enc = overlay_spec(4202, me, 61, local=local, peers=[remote])
            _agent(self.c, me, "PUT", "/v1/overlays/bench-enc", enc.model_dump(mode="json"))
            slow = overlay_spec(SLOW_VNI, me, 62, peers=[peer.address])
            _agent(self.c, me, "PUT", "/v1/overlays/bench-slow", slow.model_dump(mode="json"))
        self.br_ip = self._server(h1, "bench-br-s", "bench-br")
        self.ov_ip = self._server(h2, "bench-ov-s", "bench-ov")
        self.enc_ip = self._server(h2, "bench-enc-s", "bench-enc")
        self.slow_ip = self._server(h2, "bench-slow-s", "bench-slow")
        for host, name, net in (
            (h1, "bench-br-c", "bench-br"),
            (h1, "bench-ov-c", "bench-ov"),
            (h1, "bench-enc-c", "bench-enc"),
            (h1, "bench-slow-c", "bench-slow"),
        ):
            self._container(host, name, net, IDLE)
        self._drop_fast_path(SLOW_VNI)
        # In h2's own namespace: the bare tunnel's server, and the underlay's.
        self._host_server(f"{TUNNEL_NET}.{h2.index}", TUNNEL_PORT)
        self._host_server(h2.address, UNDERLAY_PORT)

    def _drop_fast_path(self, vni: int) -> None:
        """Once each host's agent has built the overlay's fast path, remove it again."""
        for host in (self.h1, self.h2):
            deadline = time.monotonic() + 30
            while _agent(self.c, host, "GET", "/v1/overlays/bench-slow")["fast_path"] == 0:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{host.name}: the fast path of bench-slow never came")
                time.sleep(0.2)
            cmd = [sys.executable, "-c", _DROP_TABLE, str(vni)]
            subprocess.run(["nsenter", f"--net={host.netns_path}", *cmd], check=True)
            if _agent(self.c, host, "GET", "/v1/overlays/bench-slow")["fast_path"] != 0:
                raise RuntimeError(f"{host.name}: the fast path of bench-slow is still there")

    def _host_server(self, address: str, port: int) -> None:
        cmd = ["iperf3", "-s", "-B", address, "-p", str(port)]
        self.servers.append(
            subprocess.Popen(
                ["nsenter", f"--net={self.h2.netns_path}", *cmd],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )

    def _container(self, host: HostLayout, name: str, net: str, cmd: list[str]) -> str:
        engine = self.engines[host.name]
        made = engine.containers.create(self.image, cmd, name=name, network=net, environment=ENV)
        made.put_archive("/", self.tar)
        made.start()
        made.reload()
        return str(made.attrs["NetworkSettings"]["Networks"][net]["IPAddress"])

    def _server(self, host: HostLayout, name: str, net: str) -> str:
        return self._container(host, name, net, [f"{IPERF}/iperf3", "-s"])

    def _from_container(self, host: HostLayout, name: str, target: str, seconds: float) -> float:
        client = self.engines[host.name].containers.get(name)
        cmd = [f"{IPERF}/iperf3", "-c", target, "-t", str(seconds), "-J"]
        for _ in range(30):  # the server may still be starting, or busy with the last run
            code, out = client.exec_run(cmd, environment=ENV)
            if code == 0:
                return _mbps(out.decode())
            time.sleep(0.5)
        raise RuntimeError(f"iperf3 from {name} to {target}: {out.decode()[-300:]}")

    def _host_to_host(self, target: str, port: int, seconds: float) -> float:
        """iperf3 from h1's namespace to a server in h2's."""
        iperf = ["iperf3", "-c", target, "-p", str(port), "-t", str(seconds), "-J"]
        cmd = ["nsenter", f"--net={self.h1.netns_path}", *iperf]
        for _ in range(30):
            done = subprocess.run(cmd, capture_output=True, text=True)
            if done.returncode == 0:
                return _mbps(done.stdout)
            time.sleep(0.5)
        raise RuntimeError(f"iperf3 to {target}: {done.stdout[-300:]} {done.stderr[-300:]}")

    def pairs(self) -> list[Pair]:
        """The six paths, in the order of the first round."""
        tunnel = f"{TUNNEL_NET}.{self.h2.index}"
        h1 = self.h1
        return [
            Pair("bridge", lambda s: self._from_container(h1, "bench-br-c", self.br_ip, s)),
            Pair("overlay", lambda s: self._from_container(h1, "bench-ov-c", self.ov_ip, s)),
            Pair("slowpath", lambda s: self._from_container(h1, "bench-slow-c", self.slow_ip, s)),
            Pair("underlay", lambda s: self._host_to_host(self.h2.address, UNDERLAY_PORT, s)),
            Pair("tunnel", lambda s: self._host_to_host(tunnel, TUNNEL_PORT, s)),
            Pair(
                "encrypted", lambda s: self._from_container(self.h1, "bench-enc-c", self.enc_ip, s)
            ),
        ]

    def reset(self) -> None:
        """Remove everything the bench put on the hosts (`POST /v1/reset` on every agent)."""
        self._stop_servers()
        for host in self.c.hosts:
            _agent(self.c, host, "POST", "/v1/reset")

    def _stop_servers(self) -> None:
        for server in self.servers:
            procs.stop(server.pid)
        self.servers = []

    def close(self) -> None:
        """Stop what runs outside the cluster's containers (the cluster's down does the rest)."""
        self._stop_servers()
        for engine in self.engines.values():
            engine.close()


def throughput(bench: Bench, rounds: int, seconds: float) -> dict[str, list[float]]:
    """MB/s per path per round, the order reversed every other round."""
    results: dict[str, list[float]] = {}
    pairs = bench.pairs()
    for k in range(rounds):
        for pair in pairs if k % 2 == 0 else list(reversed(pairs)):
            results.setdefault(pair.label, []).append(pair.run(seconds))
        print(
            f"  round {k + 1}: "
            + "  ".join(f"{p.label} {results[p.label][-1]:.0f}" for p in pairs),
            flush=True,
        )
    return results


def _verdict(value: float, target: float, higher: bool) -> str:
    met = value >= target if higher else value <= target
    if met:
        return "target met"
    gap = (target - value) / target if higher else (value - target) / target
    return f"target MISSED by {gap:.0%}"


def _row(values: list[float], fmt: str = ".0f") -> str:
    return " ".join(f"{v:{fmt}}" for v in values)


NO_FULL_PATH = (
    "  The full path (a container restart to every host answering) is not measured: this\n"
    "  control plane does not drive overlay networks; the figure above is the agent side only."
)
RATIOS: tuple[tuple[str, str, float | None, str], ...] = (
    ("overlay", "bridge", 0.8, "overlay / same-host bridge"),
    ("encrypted", "tunnel", 0.6, "encrypted overlay / bare WireGuard"),
    # No targets: where the overlay's gap to the bridge lies.
    ("underlay", "bridge", None, "  of which: underlay / bridge"),
    ("overlay", "underlay", None, "  and: overlay / underlay"),
    ("slowpath", "bridge", None, "overlay without fast path / bridge"),
    ("overlay", "slowpath", None, "  fast path / without"),
)


def report(
    results: dict[str, list[float]],
    dns: list[Convergence],
    load: tuple[list[float], list[float]],
) -> None:
    """Print medians, per-round ratios (and their median) and the DNS figures."""
    print(f"\nload average before: {_row(load[0], '.2f')}; after: {_row(load[1], '.2f')}")
    for label, values in results.items():
        median = statistics.median(values)
        print(f"  {label:<10} median {median:8.1f} MB/s   runs {_row(values)}")
    for num, den, target, what in RATIOS:
        ratios = [a / b for a, b in zip(results[num], results[den], strict=True)]
        ratio = statistics.median(ratios)
        verdict = "" if target is None else f"  {_verdict(ratio, target, True)} (>= {target})"
        print(f"{what:<36} {ratio:.2f}x{verdict}")
        print(f"{'':<36} per round: {_row(ratios, '.2f')}")
    for figures in dns:
        print("\n".join(figures.lines()))
        print(f"  {_verdict(max(figures.seconds), 1.0, False)} (<= 1 s)")
    if len(dns) == 1:
        print(NO_FULL_PATH)


@contextmanager
def _interruptible() -> Iterator[None]:
    """SIGTERM behaves like Ctrl-C, so the clean-up in `finally` runs for both."""

    main = os.getpid()

    def stop(signum: int, frame: FrameType | None) -> None:
        if os.getpid() != main:
            # A child pyroute2 forked (for a namespace) inherits this handler, and its
            # parent stops it with SIGTERM: raising there would run the parent's code on.
            os._exit(1)
        raise KeyboardInterrupt

    old = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)


def main(argv: list[str] | None = None) -> int:
    """Bring up the cluster, measure, print, take it down."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.overlay", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--hosts", type=int, default=3, help="hosts in the cluster (2 or more; DNS is timed on all)"
    )
    parser.add_argument(
        "--rounds", type=int, default=5, help="throughput rounds (each runs all six paths)"
    )
    parser.add_argument("--seconds", type=float, default=3.0, help="seconds per iperf3 run")
    parser.add_argument("--dns-tries", type=int, default=20)
    args = parser.parse_args(argv)
    if args.hosts < 2:
        parser.error("--hosts must be at least 2")
    devcluster.sweep(PREFIX)
    name = f"{PREFIX}{uuid.uuid4().hex[:4]}"
    bench = None
    with _interruptible():
        try:
            before = list(os.getloadavg())
            print(f"cluster {name}: {args.hosts} hosts coming up ...", flush=True)
            # The control plane gets the hosts only for the full DNS path, at the end.
            c = devcluster.up(name, args.hosts, server_env=SERVER_ENV, owner_pid=os.getpid())
            image = ensure_base("python", docker.from_env())
            c.load_image(image)
            bench = Bench(c, image)
            bench.setup()
            each = f"{args.rounds} rounds x {args.seconds:g} s per path"
            print(f"throughput: {each}, iperf3 (one TCP stream), alternating", flush=True)
            results = throughput(bench, args.rounds, args.seconds)
            print("DNS convergence ...", flush=True)
            dns = [overlaydns.agent_side(c, args.dns_tries)]
            bench.reset()  # the control plane starts from empty hosts
            full = overlaydns.full_path(c, image, IDLE, args.dns_tries)
            dns += [full] if full is not None else []
            report(results, dns, (before, list(os.getloadavg())))
        except KeyboardInterrupt:
            print("interrupted: cleaning up", file=sys.stderr)
            return 130
        finally:
            if bench is not None:
                bench.close()
            devcluster.down(name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
