"""Stack deploys against plain Docker (run by hand: `python -m bench.stacks`; not a test).

  world     the world stack, `POST /stacks?wait=true` until converged, against the
            same two containers made with direct docker SDK calls on the same
            engine (network, volume, worlddb, wait for its health, searchapi, wait).
            Target: weft / direct <= 1.2.
  spread    40 containers over a 4-host test cluster (network namespaces, a dockerd
            each): one stack write of 40 replicas, against a sequential loop of
            `docker run` over the four engines. Target: the loop takes >= 2x as long.

Runs alternate A B A B (this machine is noisy); medians and their ratio are printed.
Everything made is named `weftbench*` and removed afterwards.
"""

import argparse
import contextlib
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import docker
import httpx

from controlplane import __version__
from controlplane.build.images import image_ref
from controlplane.devcluster.cluster import free_port
from controlplane.launch.local import (
    Site,
    ensure_parts,
    remove_matching,
    remove_parts,
    wait_healthy,
)
from controlplane.launch.world import WORLD_FILE

IDLE = [
    "python3",
    "-c",
    "import signal, sys, time; signal.signal(signal.SIGTERM, lambda *_: sys.exit(0)); "
    "time.sleep(10**6)",
]


def _load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def _alternate(rounds: int, runs: dict[str, Callable[[], float]]) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {k: [] for k in runs}
    for i in range(rounds):
        for name, run in runs.items():
            seconds = run()
            times[name].append(seconds)
            print(f"  round {i + 1} {name:<8} {seconds:7.2f} s  (load {_load()})", flush=True)
    return times


def _summary(times: dict[str, list[float]], a: str, b: str) -> float:
    med = {k: statistics.median(v) for k, v in times.items()}
    for k, v in med.items():
        print(f"{k:<8} median {v:7.2f} s  ({', '.join(f'{t:.2f}' for t in times[k])})")
    return med[a] / med[b]


# --- world: POST /stacks against direct SDK calls ---------------------------------


@contextlib.contextmanager
def _control_plane(client: docker.DockerClient, tmp: Path) -> Iterator[tuple[Site, httpx.Client]]:
    site = Site(
        prefix=f"weftbench-{uuid.uuid4().hex[:6]}",
        api_port=free_port(),
        agent_port=free_port(),
        state_dir=tmp / "state",
        agent_token_file=tmp / "agent.token",
    )
    ensure_parts(site, client)
    token = site.admin_token_file.read_text().strip()
    api = httpx.Client(
        base_url=site.api_url, headers={"Authorization": f"Bearer {token}"}, timeout=900
    )
    try:
        r = api.post(
            "/hosts",
            json={
                "name": f"{site.prefix}-host",
                "agent_url": site.agent_url,
                "agent_token": site.agent_token_file.read_text().strip(),
            },
        )
        r.raise_for_status()
        yield site, api
    finally:
        api.close()
        remove_parts(site, client)


def _weft_world(api: httpx.Client, password: str) -> Callable[[], float]:
    def run() -> float:
        name = f"weftbench{uuid.uuid4().hex[:6]}"
        body = {
            "name": name,
            "compose": WORLD_FILE.read_text(),
            "variables": {
                "WORLDDB_PASSWORD": password,
                "WEFT_VERSION": __version__,
                "SEARCH_PORT": str(free_port()),
            },
        }
        started = time.monotonic()
        r = api.post("/stacks", params={"wait": True}, json=body)
        seconds = time.monotonic() - started
        assert r.status_code == 202 and r.json()["status"] == "converged", r.text
        api.delete(f"/stacks/{name}", params={"wait": True, "volumes": True}).raise_for_status()
        return seconds

    return run


def _direct_world(client: docker.DockerClient, password: str) -> Callable[[], float]:
    def run() -> float:
        name = f"weftbench{uuid.uuid4().hex[:6]}"
        started = time.monotonic()
        net = client.networks.create(f"{name}_default", driver="bridge")
        volume = client.volumes.create(f"{name}_worlddata")
        db = client.containers.run(
            image_ref("worlddb"),
            name=f"{name}-worlddb-1",
            detach=True,
            network=net.name,
            environment={
                "WORLDDB_DATABASE": "world",
                "WORLDDB_USER": "search",
                "WORLDDB_PASSWORD": password,
            },
            volumes={volume.name: {"bind": "/var/lib/mysql", "mode": "rw"}},
        )
        wait_healthy(db, 600)
        api = client.containers.run(
            image_ref("searchapi"),
            name=f"{name}-searchapi-1",
            detach=True,
            network=net.name,
            environment={
                "SEARCHAPI_DB_HOST": db.name,
                "SEARCHAPI_DB_USER": "search",
                "SEARCHAPI_DB_PASSWORD": password,
                "SEARCHAPI_DB_NAME": "world",
            },
            ports={"8080/tcp": ("127.0.0.1", free_port())},
        )
        wait_healthy(api, 600)
        seconds = time.monotonic() - started
        remove_matching(client, lambda n, _labels: n.startswith(name))
        return seconds

    return run


def world(args: argparse.Namespace) -> None:
    client = docker.from_env(timeout=600)
    password = uuid.uuid4().hex
    with (
        tempfile.TemporaryDirectory(prefix="weftbench-") as tmp,
        _control_plane(client, Path(tmp)) as (_site, api),
    ):
        times = _alternate(
            args.rounds,
            {"weft": _weft_world(api, password), "direct": _direct_world(client, password)},
        )
    ratio = _summary(times, "weft", "direct")
    print(f"world: weft / direct = {ratio:.2f}  (target <= 1.2)")


# --- spread: 40 containers over 4 hosts ---------------------------------------------


def spread(args: argparse.Namespace) -> None:
    from controlplane.devcluster import cluster as devcluster

    name = "weftbench"
    client = docker.from_env(timeout=600)
    image = "weft/base-python:bookworm"
    cl = devcluster.up(name, 4)
    try:
        cl.load_image(image, client)
        cl.register()
        engines = [cl.engine(h) for h in cl.hosts]
        api = cl.api()
        api.timeout = httpx.Timeout(900)

        print(f"spread: load average before {_load()}", flush=True)

        def weft() -> float:
            stack = f"weftbench{uuid.uuid4().hex[:6]}"
            compose = {
                "name": stack,
                "services": {
                    "idle": {
                        "image": image,
                        "command": IDLE,
                        "network_mode": "none",
                        "deploy": {"replicas": args.containers},
                    }
                },
            }
            started = time.monotonic()
            r = api.post("/stacks", params={"wait": True}, json={"compose": compose})
            seconds = time.monotonic() - started
            assert r.status_code == 202 and r.json()["status"] == "converged", r.text
            api.delete(f"/stacks/{stack}", params={"wait": True}).raise_for_status()
            return seconds

        def loop() -> float:
            prefix = f"weftbench{uuid.uuid4().hex[:6]}"
            started = time.monotonic()
            made: list[Any] = []
            for i in range(args.containers):
                engine = engines[i % len(engines)]
                made.append(
                    engine.containers.run(
                        image, IDLE, name=f"{prefix}-{i}", detach=True, network_mode="none"
                    )
                )
            seconds = time.monotonic() - started
            for c in made:
                c.remove(force=True)
            return seconds

        times = _alternate(args.rounds, {"weft": weft, "loop": loop})
        api.close()
    finally:
        devcluster.down(name)
    ratio = _summary(times, "loop", "weft")
    print(f"spread: docker run loop / weft = {ratio:.2f}  (target >= 2)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("which", nargs="*", default=["world", "spread"])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--containers", type=int, default=40)
    args = parser.parse_args()
    if "world" in args.which:
        world(args)
    if "spread" in args.which:
        spread(args)


if __name__ == "__main__":
    main()
