"""The agent's other weave verbs on the test cluster: attach, detach, expose, hide, ps, reset.

A weft container on h2 joins an overlay without a restart (same PID and start time),
at a fixed address outside Docker's range of h2, and a container on h1 fetches a
payload from it; detached, it is out of reach. h1 exposes an address on the overlay
that a container on h2 reaches a server of h1's own namespace at; hidden, it is gone.
`reset` on h3 removes everything weft put there (containers, networks, VXLAN device,
exposed address, tunnel and its wireguard-go, DNS records) and nothing else.
"""

import asyncio
import random
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import docker
import pytest
from pyroute2 import IPRoute

from controlplane.devcluster import procs
from controlplane.devcluster.cluster import Cluster
from controlplane.devcluster.layout import HostLayout, overlay_spec
from controlplane.server.agentclient import AgentClient
from tests.e2e import payload
from tests.e2e.nft import add_netdev_table, netdev_table
from tests.integration.cp_procs import IDLE, wait_until
from tests.unit import weave_scenario

pytestmark = pytest.mark.e2e

NET = "wefttest-weave"
SUBNET = "10.48.0.0/16"  # overlay_spec(..., 48)
SIZE = 100_000


def _overlay(vni: int, host: HostLayout, peers: list[HostLayout]) -> dict[str, object]:
    spec = overlay_spec(vni, host, 48, peers=[p.address for p in peers])
    return {**spec.model_dump(mode="json"), "labels": {"weft.test": "weave"}}


def _call(cluster: Cluster, host: HostLayout, method: str, path: str, **kw: Any) -> Any:
    with cluster.agent(host) as agent:
        r = agent.request(method, path, **kw)
    assert r.is_success, r.text
    return r.json() if r.content else None


class WeftContainers:
    """Makes weft containers through the hosts' agents; removes them at the test's end."""

    def __init__(self, cluster: Cluster, image: str) -> None:
        self.cluster, self.image = cluster, image
        self.made: list[tuple[HostLayout, str]] = []

    def __call__(self, host: HostLayout, name: str, cmd: list[str]) -> None:
        """Ensure the container `name` on `host`, running `cmd`."""
        self.made.append((host, name))
        spec = {"image": self.image, "command": cmd, "labels": {"weft.test": "weave"}}
        _call(self.cluster, host, "PUT", f"/v1/containers/{name}", json=spec)

    def remove(self) -> None:
        """Delete every container made (absent ones too: a reset may have taken them)."""
        for host, name in self.made:
            with self.cluster.agent(host) as agent:
                agent.delete(f"/v1/containers/{name}")


@pytest.fixture
def weft_container(cluster: Cluster, base_python_image: str) -> Iterator[WeftContainers]:
    made = WeftContainers(cluster, base_python_image)
    yield made
    made.remove()


def _process(engine: docker.DockerClient, name: str) -> tuple[int, str]:
    state = engine.api.inspect_container(name)["State"]
    return state["Pid"], state["StartedAt"]


@pytest.fixture
def overlay(cluster: Cluster) -> Iterator[tuple[HostLayout, HostLayout, int]]:
    h1, h2 = cluster.hosts[:2]
    vni = random.randint(20000, 29999)
    for me, peer in ((h1, h2), (h2, h1)):
        _call(cluster, me, "PUT", f"/v1/overlays/{NET}", json=_overlay(vni, me, [peer]))
    yield h1, h2, vni
    for host in (h1, h2):
        with cluster.agent(host) as agent:
            agent.delete(f"/v1/overlays/{NET}")


def test_attach_and_detach_move_a_running_container_without_restarting_it(
    cluster: Cluster,
    overlay: tuple[HostLayout, HostLayout, int],
    engines: list[docker.DockerClient],
    weft_container: WeftContainers,
    base_python_image: str,
) -> None:
    _h1, h2, _vni = overlay
    e1, e2 = engines[:2]
    server = "wefttest-weave-srv"
    client = e1.containers.run(base_python_image, IDLE, network=NET, detach=True)
    try:
        weft_container(h2, server, payload.server("w", SIZE))
        before = _process(e2, server)
        path = f"/v1/overlays/{NET}/containers/{server}"
        body = {"ipv4_address": "10.48.9.77", "aliases": ["srv"]}
        first = _call(cluster, h2, "PUT", path, json=body)
        assert first["action"] == "attached"
        ep = first["endpoint"]
        assert (ep["address"], ep["aliases"], ep["kind"]) == ("10.48.9.77/16", ["srv"], "container")
        assert ep["mac_address"] and _process(e2, server) == before
        assert _call(cluster, h2, "PUT", path, json=body)["action"] == "unchanged"

        def fetched() -> bool:
            code, out = client.exec_run(payload.fetch("10.48.9.77"))
            return code == 0 and out.decode().strip() == payload.body("w", SIZE)

        wait_until(fetched, 30)
        listed = _call(cluster, h2, "GET", "/v1/ps", params={"overlay": NET})
        mine = [e for e in listed if e["name"] == server]
        assert [(e["address"], e["mac_address"]) for e in mine] == [
            ("10.48.9.77/16", ep["mac_address"])
        ]
        other = _call(cluster, h2, "PUT", path, json={**body, "aliases": ["srv", "www"]})
        assert other["action"] == "reattached" and other["endpoint"]["aliases"] == ["srv", "www"]
        wait_until(fetched, 30)

        with cluster.agent(h2) as agent:
            assert agent.delete(path).status_code == 204
            assert agent.delete(path).status_code == 204  # not on it: fine
        assert client.exec_run(payload.fetch("10.48.9.77")).exit_code != 0
        assert all(e["name"] != server for e in _call(cluster, h2, "GET", "/v1/ps"))
        assert _process(e2, server) == before  # never restarted
        assert NET not in e2.api.inspect_container(server)["NetworkSettings"]["Networks"]
    finally:
        client.remove(force=True)


def test_the_fake_agents_weave_scenario_holds_on_a_real_agent(
    cluster: Cluster,
    overlay: tuple[HostLayout, HostLayout, int],
    engines: list[docker.DockerClient],
    weft_container: WeftContainers,
) -> None:
    _h1, h2, _vni = overlay
    name = "wefttest-weave-sc"

    async def scenario() -> None:
        async with AgentClient(h2.agent_url, cluster.token, timeout=120) as agent:
            await weave_scenario.run(agent, NET, SUBNET, name)

    weft_container(h2, name, IDLE)
    before = _process(engines[1], name)
    asyncio.run(scenario())
    assert _process(engines[1], name) == before


def test_bad_attaches_are_refused_naming_the_fault_and_change_nothing(
    cluster: Cluster,
    overlay: tuple[HostLayout, HostLayout, int],
    engines: list[docker.DockerClient],
    weft_container: WeftContainers,
    base_python_image: str,
) -> None:
    _h1, h2, _vni = overlay
    e2 = engines[1]
    mine, foreign = "wefttest-weave-bad", "wefttest-weave-foreign"
    stranger = e2.containers.run(base_python_image, IDLE, name=foreign, detach=True)
    try:
        weft_container(h2, mine, IDLE)
        with cluster.agent(h2) as agent:
            path = f"/v1/overlays/{NET}/containers/{mine}"
            r = agent.put(path, json={"ipv4_address": "10.9.0.1"})
            assert r.status_code == 422, r.text
            assert r.headers["content-type"] == "application/problem+json"
            assert r.json()["errors"][0]["loc"] == ["body", "ipv4_address"]
            r = agent.put(path, json={"aliases": ["-x"]})
            assert r.status_code == 422 and r.json()["errors"][0]["loc"][:2] == ["body", "aliases"]
            r = agent.put(f"/v1/overlays/{NET}/containers/{foreign}", json={})
            assert r.status_code == 409, r.text  # not weft's
            r = agent.put(f"/v1/overlays/wefttest-none/containers/{mine}", json={})
            assert r.status_code == 404, r.text
            r = agent.put(f"/v1/overlays/{NET}/exposed/10.49.0.5")
            assert r.status_code == 422 and r.json()["errors"][0]["loc"] == ["path", "address"]
        for name in (mine, foreign):
            assert NET not in e2.api.inspect_container(name)["NetworkSettings"]["Networks"]
    finally:
        stranger.remove(force=True)


_LISTEN = (
    "import http.server, sys\n"
    "class H(http.server.BaseHTTPRequestHandler):\n"
    "    def do_GET(self):\n"
    "        self.send_response(200); self.end_headers(); self.wfile.write(b'host-h1')\n"
    "http.server.HTTPServer((sys.argv[1], 8080), H).serve_forever()"
)


def test_expose_gives_the_host_an_address_on_the_overlay_and_hide_takes_it_back(
    cluster: Cluster,
    overlay: tuple[HostLayout, HostLayout, int],
    engines: list[docker.DockerClient],
    base_python_image: str,
) -> None:
    h1, _h2, vni = overlay
    e2 = engines[1]
    address = "10.48.200.1"
    client = e2.containers.run(base_python_image, IDLE, network=NET, detach=True)
    server = None
    try:
        path = f"/v1/overlays/{NET}/exposed/{address}"
        first = _call(cluster, h1, "PUT", path)
        assert (first["action"], first["addresses"]) == ("exposed", [f"{address}/16"])
        assert _call(cluster, h1, "PUT", path)["action"] == "unchanged"
        assert _addresses(h1, f"weftb{vni}") >= {f"{address}/16", "10.48.1.1/16"}
        host_eps = [e for e in _call(cluster, h1, "GET", "/v1/ps") if e["kind"] == "host"]
        assert [(e["overlay"], e["address"]) for e in host_eps] == [(NET, f"{address}/16")]

        # A server of h1's own namespace, on the exposed address, answers a container on h2.
        server = subprocess.Popen(
            ["nsenter", f"--net={h1.netns_path}", sys.executable, "-c", _LISTEN, address],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        fetch = payload.fetch(f"{address}:8080")
        wait_until(lambda: client.exec_run(fetch).output.decode().strip() == "host-h1", 30)

        with cluster.agent(h1) as agent:
            assert agent.delete(path).status_code == 204
            assert agent.delete(path).status_code == 204  # not held: fine
        assert f"{address}/16" not in _addresses(h1, f"weftb{vni}")
        assert client.exec_run(fetch).exit_code != 0
        assert all(e["kind"] != "host" for e in _call(cluster, h1, "GET", "/v1/ps"))
    finally:
        if server is not None:
            procs.stop(server.pid)
        client.remove(force=True)


def _addresses(host: HostLayout, device: str) -> set[str]:
    with IPRoute(netns=host.name) as ns:
        found = ns.link_lookup(ifname=device)
        if not found:
            return set()
        return {
            f"{a.get_attr('IFA_ADDRESS')}/{a['prefixlen']}"
            for a in ns.get_addr(index=found[0], family=2)
        }


def _links(host: HostLayout) -> list[str]:
    with IPRoute(netns=host.name) as ns:
        return sorted(str(x.get_attr("IFLA_IFNAME")) for x in ns.get_links())


def test_reset_removes_everything_weft_put_on_the_host_and_nothing_else(
    cluster: Cluster,
    engines: list[docker.DockerClient],
    weft_container: WeftContainers,
    base_python_image: str,
) -> None:
    h1, h3 = cluster.hosts[0], cluster.hosts[2]
    e3 = engines[2]
    vni = random.randint(30000, 39999)
    ifname = f"weftwg{cluster.layout.name[-4:]}{h3.index}"
    foreign_net = e3.networks.create("wefttest-foreign-net", driver="bridge")
    stranger = e3.containers.run(
        base_python_image, IDLE, name="wefttest-foreign-c", network=foreign_net.name, detach=True
    )
    try:
        _call(cluster, h3, "PUT", f"/v1/overlays/{NET}", json=_overlay(vni, h3, [h1]))
        _call(
            cluster,
            h3,
            "PUT",
            "/v1/networks/wefttest-weave-br",
            json={"labels": {"weft.test": "weave"}},
        )
        weft_container(h3, "wefttest-weave-r1", IDLE)
        _call(cluster, h3, "PUT", f"/v1/overlays/{NET}/containers/wefttest-weave-r1", json={})
        _call(cluster, h3, "PUT", f"/v1/overlays/{NET}/exposed/10.48.201.3")
        e3.networks.get(NET).connect(stranger)  # a stranger on weft's overlay
        records = {"records": [{"name": "r1", "addresses": ["10.48.3.2"]}]}
        _call(cluster, h3, "PUT", "/v1/dns", json=records)
        tunnel = _call(
            cluster, h3, "PUT", "/v1/tunnel", json={"interface": ifname, "address": "10.251.0.3/24"}
        )
        assert tunnel["backend"] == "wireguard-go"
        wg_pid = procs.read_pid(h3.dir / f"{ifname}.pid")
        assert wg_pid is not None and procs.alive(wg_pid)
        started = _process(e3, stranger.name)
        # The overlay's fast path follows its two containers (weft's and the stranger).
        wait_until(lambda: _call(cluster, h3, "GET", f"/v1/overlays/{NET}")["fast_path"] == 2, 15)
        add_netdev_table(h3, f"weft_fp_{vni + 1}")  # a stray: its overlay went in a crash

        done = _call(cluster, h3, "POST", "/v1/reset")
        assert "wefttest-weave-r1" in done["containers"]
        assert {NET, "wefttest-weave-br"} <= set(done["networks"])
        assert done["tunnels"] == [ifname] and done["processes"] == [wg_pid]
        assert done["exposed"] == [f"{NET}:10.48.201.3/16"] and done["dns_records"] == 1
        assert done["fast_paths"] == [f"weft_fp_{vni + 1}"]  # (the overlay's own went with it)

        # (By this test's label: the cluster's control plane may re-create its own objects.)
        assert not e3.containers.list(all=True, filters={"label": "weft.test=weave"})
        assert not e3.networks.list(filters={"label": "weft.test=weave"})
        assert not [n for n in _links(h3) if n.startswith(("weftv", "weftb", "weftwg"))]
        assert netdev_table(h3, f"weft_fp_{vni}") == []
        wait_until(lambda: not procs.alive(wg_pid), 10)
        assert _call(cluster, h3, "GET", "/v1/dns")["records"] == []
        # What weft did not make is still there, running as before.
        assert _process(e3, stranger.name) == started
        assert e3.networks.get(foreign_net.id).name == "wefttest-foreign-net"
        # The key (the host's identity) stays.
        assert _call(cluster, h3, "GET", "/v1/tunnel")["public_key"] == tunnel["public_key"]

        again = _call(cluster, h3, "POST", "/v1/reset")
        assert again == {
            "containers": [],
            "networks": [],
            "devices": [],
            "tunnels": [],
            "fast_paths": [],
            "processes": [],
            "exposed": [],
            "dns_records": 0,
        }
    finally:
        stranger.remove(force=True)
        foreign_net.remove()
        _call(cluster, h3, "POST", "/v1/reset")
