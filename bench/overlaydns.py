"""DNS convergence for `bench.overlay`: how soon every host answers a changed address.

Two measurements, each as seconds until EVERY host's responder answers right:

- agent side: the record set pushed to every agent (`PUT /v1/dns`, kept-alive clients
  as the control plane holds them), until each responder answers the new address;
- full path (when the control plane drives overlay networks): a container on an
  overlay stopped and started behind weft's back on its host, until every host
  answers it gone (NXDOMAIN), then back at its address. The agents' change feed,
  the control plane's records and its push are all inside.
"""

import itertools
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial

import docker
import httpx
from dnslib import QTYPE

from controlplane.agent.dns.server import query
from controlplane.devcluster import cluster as devcluster
from controlplane.devcluster.layout import HostLayout

NAME = "bench-srv"
NET = "bench-dns"
TIMEOUT = 10.0


@dataclass
class Convergence:
    """Seconds per try until every host answered, and what each figure covers."""

    what: str
    seconds: list[float] = field(default_factory=list)
    part: tuple[str, list[float]] | None = None

    def lines(self) -> list[str]:
        """The figures as printed: p50 and max, and the part's p50."""
        p50, worst = statistics.median(self.seconds), max(self.seconds)
        tries = len(self.seconds)
        out = [f"{self.what}, {tries} tries: p50 {p50 * 1000:.1f} ms, max {worst * 1000:.1f} ms"]
        if self.part is not None:
            label, values = self.part
            out.append(f"  of which {label}: p50 {statistics.median(values) * 1000:.1f} ms")
        return out


def _answer(host: HostLayout) -> list[str]:
    try:
        reply = query(host.address, 53, f"{NAME}.weave.local")
    except OSError:
        return ["(no answer)"]
    return sorted(str(rr.rdata) for rr in reply.rr if rr.rtype == QTYPE.A)


def _until(host: HostLayout, wanted: list[str], started: float) -> float:
    """Seconds since `started` until the host's responder answers `wanted` (polled)."""
    while _answer(host) != wanted:
        if time.perf_counter() - started > TIMEOUT:
            raise RuntimeError(f"{host.name} did not answer {wanted} within {TIMEOUT:g} s")
        time.sleep(0.002)
    return time.perf_counter() - started


def _everywhere(
    pool: ThreadPoolExecutor, hosts: list[HostLayout], wanted: list[str], started: float
) -> float:
    return max(pool.map(partial(_until, wanted=wanted, started=started), hosts))


def agent_side(c: devcluster.Cluster, tries: int) -> Convergence:
    """From pushing a changed record set to every agent until every host answers it."""
    hosts = c.hosts
    clients = [c.agent(h) for h in hosts]
    out = Convergence("DNS convergence, AGENT SIDE ONLY (record-set push to answers)")
    push: list[float] = []
    out.part = ("the push (PUT /v1/dns, all agents)", push)
    try:
        with ThreadPoolExecutor(len(hosts)) as pool:
            for i in range(tries):
                address = f"10.60.2.{10 + i % 2}"
                body = {"records": [{"name": NAME, "addresses": [address]}]}
                started = time.perf_counter()
                list(pool.map(partial(_push, body=body), clients))
                push.append(time.perf_counter() - started)
                out.seconds.append(_everywhere(pool, hosts, [address], started))
    finally:
        for client in clients:
            client.close()
    return out


def _push(client: httpx.Client, body: dict) -> None:
    client.put("/v1/dns", json=body).raise_for_status()


def _created(r: httpx.Response) -> dict:
    if r.status_code not in (200, 201):
        raise RuntimeError(f"{r.request.method} {r.request.url.path}: {r.status_code} {r.text}")
    body: dict = r.json()
    return body


def full_path(
    c: devcluster.Cluster, image: str, command: list[str], tries: int
) -> Convergence | None:
    """A container restarted behind weft's back, until every host answers it gone and back;
    None when this control plane has no overlay networks yet (the agent side is all)."""
    ids = c.register()
    hosts = c.hosts
    with c.api() as api:
        for a, b in itertools.pairwise(hosts):
            _created(api.post("/peerings", json={"a": ids[a.name], "b": ids[b.name]}))
        r = api.post("/networks?wait=true", json={"name": NET, "driver": "overlay"})
        if r.status_code == 422:
            return None
        if _created(r).get("status") != "converged":
            raise RuntimeError(f"overlay {NET} did not converge: {r.text}")
        spec = {"host_id": ids[hosts[-1].name], "name": NAME, "image": image, "command": command}
        spec["networks"] = [{"network": NET}]
        _created(api.post("/containers?wait=true", json=spec))
    engine = c.engine(hosts[-1])
    back = Convergence("DNS convergence after a restart, FULL PATH (start to answered everywhere)")
    gone: list[float] = []
    back.part = ("stop to gone everywhere", gone)
    try:
        with ThreadPoolExecutor(len(hosts)) as pool:
            address = _address(engine)
            _everywhere(pool, hosts, [address], time.perf_counter())
            for _ in range(tries):
                # Timed from the engine's answer: the container has stopped, or runs again.
                engine.api.stop(NAME, timeout=0)
                gone.append(_everywhere(pool, hosts, [], time.perf_counter()))
                engine.api.start(NAME)
                started = time.perf_counter()
                address = _address(engine)
                back.seconds.append(_everywhere(pool, hosts, [address], started))
    finally:
        engine.close()
    return back


def _address(engine: docker.DockerClient) -> str:
    data = engine.api.inspect_container(NAME)
    return str(data["NetworkSettings"]["Networks"][NET]["IPAddress"])
