"""The world stack split over two hosts of the test cluster, deployed with one POST /stacks.

Constraints put worlddb on h1 (label world=db) and searchapi on h2 (world=search).
Both images are loaded on h1 only: the deployer copies searchapi's to h2 through
the agents. The hosts are peered, so the stack's network is an overlay; the search
API finds the database by its service name across the hosts, and h2's published
port answers the seed's search with the three Darwins. Removing the stack leaves
no weft container, network, volume, VXLAN device or DNS name on either host.
"""

import contextlib
import json
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import docker
import httpx
import pytest
from pyroute2 import IPRoute

from controlplane import __version__
from controlplane.contract import labels
from controlplane.contract.overlay import vxlan_name
from controlplane.devcluster.cluster import Cluster
from controlplane.devcluster.layout import HostLayout
from tests.eventually import eventually

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
STACK = "world"
SEARCH_PORT = 8080


def _load_on(cluster: Cluster, host: HostLayout, ref: str, tmp_path: Path) -> None:
    """Copy an image from the root engine to one host through its agent."""
    tarball = tmp_path / "image.tar"
    root = docker.from_env(timeout=600)
    try:
        with tarball.open("wb") as f:
            for chunk in root.images.get(ref).save(named=True):
                f.write(chunk)
    finally:
        root.close()
    with cluster.agent(host) as agent, tarball.open("rb") as body:
        agent.put("/v1/images", content=body).raise_for_status()
    tarball.unlink()


def _search(host: HostLayout, path: str) -> dict:
    """GET on the host's 127.0.0.1:8080, from inside its namespace (where it is published)."""
    code = (
        "import json, sys, urllib.request\n"
        f"r = urllib.request.urlopen('http://127.0.0.1:{SEARCH_PORT}{path}', timeout=10)\n"
        "sys.stdout.write(r.read().decode())\n"
    )
    out = subprocess.run(
        ["nsenter", f"--net={host.netns_path}", sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return dict(json.loads(out.stdout))


def _has_device(host: HostLayout, name: str) -> bool:
    with IPRoute(netns=host.name) as ns:
        return bool(ns.link_lookup(ifname=name))


def _logs(api: httpx.Client) -> dict[str, str]:
    """The last lines of every container of the stack (for a failure's message)."""
    out = {}
    for c in api.get("/containers").json():
        if c["name"].startswith(f"{STACK}-"):
            out[c["name"]] = api.get(f"/containers/{c['id']}/logs", params={"tail": 30}).text
    return out


@pytest.fixture
def split(cluster: Cluster, weft_images: dict[str, str]) -> Iterator[httpx.Client]:
    """h1 and h2 peered and labelled for the world stack; put back afterwards."""
    h1, h2 = cluster.hosts[:2]
    ids = cluster.host_ids
    with cluster.api() as api:
        api.timeout = httpx.Timeout(1200)
        peering = api.post("/peerings", json={"a": ids[h1.name], "b": ids[h2.name]})
        assert peering.status_code == 201, peering.text
        for host, role in ((h1, "db"), (h2, "search")):
            r = api.patch(f"/hosts/{ids[host.name]}", json={"labels": {"world": role}})
            assert r.status_code == 200, r.text
        try:
            yield api
        finally:
            if any(s["name"] == STACK for s in api.get("/stacks").json()):
                api.delete(f"/stacks/{STACK}", params={"volumes": True, "wait": True})
            for host in (h1, h2):
                api.patch(f"/hosts/{ids[host.name]}", json={"labels": {}})
            api.delete(f"/peerings/{peering.json()['id']}")


@pytest.mark.timeout(1800)
def test_the_world_stack_split_over_two_hosts_answers_darwin_from_h2(
    cluster: Cluster, split: httpx.Client, weft_images: dict[str, str], tmp_path: Path
) -> None:
    h1, h2 = cluster.hosts[:2]
    for name in ("worlddb", "searchapi"):
        _load_on(cluster, h1, weft_images[name], tmp_path)
    variables = {
        "WORLDDB_PASSWORD": secrets.token_hex(12),
        "WEFT_VERSION": __version__,
        "SEARCH_PORT": str(SEARCH_PORT),
    }
    compose = (ROOT / "deploy" / "world.yaml").read_text()
    r = split.post(
        "/stacks", params={"wait": True}, json={"compose": compose, "variables": variables}
    )
    assert r.status_code == 202, r.text
    stack = r.json()
    assert stack["status"] == "converged", (stack, _logs(split))
    services = {s["name"]: s for s in stack["services"]}
    assert services["worlddb"]["hosts"] == [h1.name]
    assert services["searchapi"]["hosts"] == [h2.name]
    assert stack["networks"] == {"default": "overlay"}

    # searchapi's image reached h2 through the agents, as the same image.
    e1, e2 = cluster.engine(h1), cluster.engine(h2)
    try:
        ref = weft_images["searchapi"]
        assert e2.images.get(ref).id == e1.images.get(ref).id
        # The search API on h2 found the database on h1 by its service name.
        darwins = _search(h2, "/cities?q=darwin")
        assert [(c["country"], c["name"]) for c in darwins["items"]] == [
            ("Argentina", "Darwin"),
            ("Australia", "Darwin"),
            ("Zimbabwe", "Mount Darwin"),
        ]
        (net,) = [n for n in split.get("/networks").json() if n["name"] == f"{STACK}_default"]
        assert net["driver"] == "overlay"
        assert all(_has_device(h, vxlan_name(net["vni"])) for h in (h1, h2))
        records = {r["name"] for h in split.get("/dns").json() for r in h["records"]}
        assert {"worlddb", "searchapi"} <= {n.split(".")[0] for n in records}

        r = split.delete(f"/stacks/{STACK}", params={"volumes": True, "wait": True})
        assert r.status_code in (200, 202, 204), r.text

        def nothing_left() -> bool:
            for engine, host in ((e1, h1), (e2, h2)):
                managed = {"label": f"{labels.STACK}={STACK}"}
                if engine.containers.list(all=True, filters=managed):
                    return False
                if engine.networks.list(filters=managed) or engine.volumes.list(filters=managed):
                    return False
                if _has_device(host, vxlan_name(net["vni"])):
                    return False
            names = {r["name"] for h in split.get("/dns").json() for r in h["records"]}
            return not any(n.split(".")[0] in ("worlddb", "searchapi") for n in names)

        eventually(nothing_left, 60)
    finally:
        for engine in (e1, e2):
            for name in ("worlddb", "searchapi"):
                with contextlib.suppress(docker.errors.APIError):
                    engine.images.remove(weft_images[name], force=True)
            engine.close()
