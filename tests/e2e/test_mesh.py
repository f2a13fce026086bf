"""Overlays through the control plane on the test cluster: the issue's must-show runs.

Three real hosts peered h1-h2 and h2-h3 only. One `POST /networks` with
`driver: overlay`; containers written to `/containers` on h1 and h3. h1's client
fetches a payload from h3's server as `srv.weave.local` (names from the control
plane's records, addresses from its IPAM, across h2's mesh). Forgetting h2-h3
cuts h3 off (status says so); connecting it again restores it. h2's agent is
killed and restarted: its datapath and DNS come back, and no address is ever
seen twice across the cluster. Deleting the network leaves nothing on any host.
"""

import os
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable

import docker
import httpx
import pytest
from pyroute2 import IPRoute

from controlplane.devcluster import procs
from controlplane.devcluster.cluster import TOKEN_FILE, Cluster
from controlplane.devcluster.layout import HostLayout
from tests.e2e import payload
from tests.e2e.conftest import ok
from tests.eventually import eventually
from tests.integration.cp_procs import IDLE

pytestmark = pytest.mark.e2e

NET = "wefttest-mesh"
SIZE = 100_000


def _run(api: httpx.Client, host_id: int, name: str, image: str, command: list[str]) -> dict:
    body = {"host_id": host_id, "name": name, "image": image, "command": command}
    row = ok(api.post("/containers?wait=true", json={**body, "networks": [{"network": NET}]}))
    assert row["status"] == "converged", row
    return row


def _container(engine: docker.DockerClient, name: str) -> docker.models.containers.Container:
    return engine.containers.get(name)


def _fetches(client: docker.models.containers.Container, target: str, text: str) -> bool:
    code, out = client.exec_run(payload.fetch(target))
    return code == 0 and out.decode().strip() == payload.body(text, SIZE)


def _addresses(cluster: Cluster) -> list[str]:
    """Every container's address on the overlay, as each host's engine reports it."""
    found = []
    for host in cluster.hosts:
        engine = cluster.engine(host)
        try:
            for c in engine.containers.list(all=True):
                ip = c.attrs["NetworkSettings"]["Networks"].get(NET, {}).get("IPAddress")
                if ip:
                    found.append(ip)
        finally:
            engine.close()
    return found


def _answered_everywhere(cluster: Cluster, check: Callable[[set[str]], bool]) -> None:
    """Every host's DNS responder serves a record set passing `check` within 1 s."""
    started = time.monotonic()
    when: dict[str, float] = {}
    clients = [(h.name, cluster.agent(h)) for h in cluster.hosts]

    def everywhere() -> bool:
        for name, agent in clients:
            if name not in when:
                names = {r["name"] for r in agent.get("/v1/dns").json()["records"]}
                if check(names):
                    when[name] = time.monotonic() - started
        return len(when) == len(clients)

    try:
        eventually(everywhere, 10, every=0.02)
    finally:
        for _, agent in clients:
            agent.close()
    assert max(when.values()) < 1.0, when


def _devices(host: HostLayout, prefix: str) -> list[str]:
    with IPRoute(netns=host.name) as ns:
        names = [str(x.get_attr("IFLA_IFNAME")) for x in ns.get_links()]
    return [n for n in names if n.startswith(prefix)]


def test_a_mesh_of_three_reaches_by_name_survives_forget_and_an_agent_restart(
    cluster: Cluster, api: httpx.Client, base_python_image: str
) -> None:
    h1, h2, h3 = cluster.hosts[:3]
    i1, i2, i3 = (cluster.host_ids[h.name] for h in (h1, h2, h3))
    ok(api.post("/peerings", json={"a": i1, "b": i2}))
    p23 = ok(api.post("/peerings", json={"a": i2, "b": i3}))["id"]
    net = ok(api.post("/networks?wait=true", json={"name": NET, "driver": "overlay"}))
    assert net["status"] == "converged" and net["subnet"].startswith("10."), net
    vni = net["vni"]
    srv = _run(api, i3, "srv", base_python_image, payload.server("h3", SIZE))
    cli_row = _run(api, i1, "cli", base_python_image, IDLE)
    _run(api, i2, "mid", base_python_image, IDLE)
    e1, e2 = cluster.engine(h1), cluster.engine(h2)
    try:
        cli, mid = _container(e1, "cli"), _container(e2, "mid")
        # h1 -> h3 by name, across the mesh (h1 and h3 are not peered directly).
        eventually(lambda: _fetches(cli, "srv.weave.local", "h3"), 30)
        assert _fetches(cli, "srv", "h3")  # weave.local is the search domain
        # A link across hosts resolves through the overlay.
        link = {"from": cli_row["id"], "to": srv["id"], "alias": "srvlink"}
        ok(api.post("/links?wait=true", json=link))
        eventually(lambda: _fetches(cli, "srvlink", "h3"), 30)
        for host in (h1, h2, h3):
            assert _devices(host, f"weftv{vni}") == [f"weftv{vni}"]

        # Forget h2-h3: h3 leaves the mesh; h1 no longer reaches it, and status says so.
        assert api.delete(f"/peerings/{p23}").status_code == 204
        eventually(lambda: not _fetches(cli, "srv.weave.local", "h3"), 30)
        status = ok(api.get(f"/hosts/{i1}/peers"), 200)
        assert h3.name not in status["mesh"] and h3.name not in {p["name"] for p in status["peers"]}
        assert ok(api.get(f"/hosts/{i3}/peers"), 200)["mesh"] == [h3.name]
        # Connect it again: reachable again.
        ok(api.post("/peerings", json={"a": i3, "b": i2}))
        eventually(lambda: _fetches(cli, "srv.weave.local", "h3"), 30)

        # Stopped and started behind weft's back: every host answers within 1 s.
        e3 = cluster.engine(h3)
        try:
            _container(e3, "srv").stop(timeout=5)
            _answered_everywhere(cluster, lambda names: "srv" not in names)
            _container(e3, "srv").start()
            _answered_everywhere(cluster, lambda names: "srv" in names)
        finally:
            e3.close()
        eventually(lambda: _fetches(cli, "srv.weave.local", "h3"), 30)

        # Kill h2's agent (by pid) and start it again, while watching for duplicate addresses.
        seen: list[list[str]] = []
        stop = threading.Event()

        def watch() -> None:
            while not stop.is_set():
                seen.append(_addresses(cluster))
                stop.wait(0.2)

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        try:
            agent_pid = procs.read_pid(h2.agent_pidfile)
            assert agent_pid is not None
            os.kill(agent_pid, signal.SIGKILL)
            eventually(lambda: not procs.alive(agent_pid), 10)
            procs.start_agent(h2, cluster.layout.dir / TOKEN_FILE)
            eventually(lambda: httpx.get(f"{h2.agent_url}/healthz").status_code == 200, 60)
            # Datapath and DNS on h2 are back: mid (on h2) reaches srv (on h3) by name.
            eventually(lambda: _fetches(mid, "srv.weave.local", "h3"), 60)
            eventually(lambda: _fetches(cli, "srv.weave.local", "h3"), 30)
        finally:
            stop.set()
            watcher.join(10)
        assert seen
        for snapshot in seen:
            dupes = [a for a, n in Counter(snapshot).items() if n > 1]
            assert not dupes, snapshot
        assert len(set(seen[-1])) == 3
    finally:
        e1.close()
        e2.close()

    # Delete: containers first, then the network; no VXLAN device or network stays anywhere.
    for c in api.get("/containers").json():
        assert api.delete(f"/containers/{c['id']}?wait=true").status_code == 204
    assert api.delete(f"/networks/{net['id']}?wait=true").status_code == 204

    def nothing_left() -> bool:
        for host in (h1, h2, h3):
            engine = cluster.engine(host)
            try:
                if engine.networks.list(names=[NET]) or _devices(host, f"weftv{vni}"):
                    return False
            finally:
                engine.close()
        return True

    eventually(nothing_left, 30)
