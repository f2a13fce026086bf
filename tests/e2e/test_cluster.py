"""The test cluster: real hosts as namespaces, each with its own dockerd and agent.

A control plane in the root namespace drives each host's agent over the underlay;
the image reached every host through its agent; a killed cluster is removed by
the next `up` of its name, and `down` leaves nothing behind.
"""

import os
import signal
import subprocess
from functools import partial
from pathlib import Path

import httpx
import pytest
from pyroute2 import IPRoute, netns

from controlplane.devcluster import cluster as devcluster
from controlplane.devcluster import netns as clusternet
from controlplane.devcluster import procs
from tests.cluster_fixture import PREFIX
from tests.e2e import payload
from tests.integration.cp_procs import IDLE, wait_until

pytestmark = pytest.mark.e2e


def test_each_host_is_its_own_engine_and_agent_on_the_underlay(
    cluster: devcluster.Cluster, base_python_image: str
) -> None:
    with cluster.api() as api:
        hosts = {h["name"]: h for h in api.get("/hosts").raise_for_status().json()}
    engine_ids = set()  # per host: its own data root
    for host in cluster.hosts:
        assert hosts[host.name]["status"] == "ready"
        assert hosts[host.name]["addresses"] == [host.address]
        engine = cluster.engine(host)
        try:
            engine_ids.add(engine.info()["DockerRootDir"])
            assert engine.images.get(base_python_image)  # loaded through the agent
        finally:
            engine.close()
        # The agent listens on the host's underlay address, inside its namespace only.
        with IPRoute(netns=host.name) as ns:
            assert host.address in [a.get_attr("IFA_ADDRESS") for a in ns.get_addr()]
    assert len(engine_ids) == len(cluster.hosts)
    # The underlay's switch is a namespace of its own that bridges and runs no netfilter;
    # the root namespace is one more port on it, with the gateway address.
    switch = cluster.layout.switch_netns_path
    for key in clusternet.BRIDGE_NETFILTER_OFF:
        assert clusternet.read_sysctl_in(switch, key) == "0"
    with IPRoute(netns=cluster.layout.switch) as sw:
        bridge = sw.link_lookup(ifname=cluster.layout.bridge)[0]
        ports = [str(link.get_attr("IFLA_IFNAME")) for link in sw.get_links(master=bridge)]
    assert sorted(ports) == sorted([cluster.layout.uplink, *(h.switch_port for h in cluster.hosts)])
    with IPRoute() as ipr:
        port = ipr.link_lookup(ifname=cluster.layout.root_port)[0]
        assert [a.get_attr("IFA_ADDRESS") for a in ipr.get_addr(index=port, family=2)] == [
            cluster.layout.root_address
        ]


def test_a_container_on_each_host_through_the_control_plane_answers(
    cluster: devcluster.Cluster, base_python_image: str
) -> None:
    with cluster.api() as api:
        made = []
        for host in cluster.hosts:
            body = {
                "name": f"{host.name}-web",
                "host_id": cluster.host_ids[host.name],
                "image": base_python_image,
                "command": payload.server(host.name, len(host.name)),
                "ports": [{"container_port": 80, "host_ip": host.address, "host_port": 8080}],
            }
            r = api.post("/containers?wait=true", json=body)
            assert r.status_code == 201, r.text
            assert r.json()["status"] == "converged", r.text
            made.append(r.json()["id"])
        try:
            for host in cluster.hosts:
                r = wait_until(partial(httpx.get, f"http://{host.address}:8080/", timeout=2), 30)
                assert r.text == host.name
                engine = cluster.engine(host)
                try:  # it runs on that host's engine, not on another's
                    assert engine.containers.get(f"{host.name}-web").status == "running"
                finally:
                    engine.close()
        finally:
            for cid in made:
                api.delete(f"/containers/{cid}?wait=true")


def _nothing_left(name: str) -> list[str]:
    left = [n for n in netns.listnetns() if n.startswith(name)]
    with IPRoute() as ipr:
        left += [
            str(link.get_attr("IFLA_IFNAME"))
            for link in ipr.get_links()
            if str(link.get_attr("IFLA_IFNAME")).startswith(name)
        ]
    rules = ""
    for listing in (["-S"], ["-S", "DOCKER-USER"], ["-t", "raw", "-S"]):
        rules += subprocess.run(["iptables", *listing], capture_output=True, text=True).stdout
    left += [line for line in rules.splitlines() if f"weft-cluster:{name}" in line]
    left += [str(p) for p in Path("/run").glob(f"{name}-*")]
    left += [str(p) for p in Path("/var/lib/weft-cluster").glob(name)]
    left += [line for line in Path("/proc/self/mountinfo").read_text().splitlines() if name in line]
    return left


def test_a_killed_cluster_goes_with_the_next_up_and_down_leaves_nothing(
    system: None, base_python_image: str
) -> None:
    name = f"{PREFIX}kill"
    first = devcluster.up(name, 1, server=False, owner_pid=os.getpid())
    host = first.hosts[0]
    first.load_image(base_python_image)
    engine = first.engine(host)
    try:  # a running container, so containerd, its shim and the container outlive dockerd
        container = engine.containers.run(base_python_image, IDLE, detach=True)
        container.reload()
        inside = int(container.attrs["State"]["Pid"])
    finally:
        engine.close()
    dockerd = procs.read_pid(host.dockerd_pidfile)
    agent = procs.read_pid(host.agent_pidfile)
    assert dockerd and agent and procs.alive(inside)
    os.kill(agent, signal.SIGKILL)
    os.kill(dockerd, signal.SIGKILL)  # a crash: nothing is stopped in order
    assert procs.pids_in_netns(host.netns_path) and procs.alive(inside)
    second = devcluster.up(name, 1, server=False, owner_pid=os.getpid())
    try:
        assert not procs.alive(inside)
        with second.agent(second.hosts[0]) as agent_api:
            assert agent_api.get("/v1/info").status_code == 200
        assert procs.read_pid(second.hosts[0].dockerd_pidfile) != dockerd
    finally:
        devcluster.down(name)
    assert _nothing_left(name) == []
    assert not any(procs.alive(p) for p in (dockerd, agent))


def test_a_cluster_whose_owner_died_is_a_leftover_and_a_live_ones_is_not(
    cluster: devcluster.Cluster,
) -> None:
    assert cluster.layout.name not in devcluster.leftovers(PREFIX)
    dead = subprocess.Popen(["true"])
    dead.wait()
    record = cluster.record.model_copy(update={"owner_pid": dead.pid})
    assert not devcluster.owner_alive(record)
    assert devcluster.owner_alive(cluster.record)
