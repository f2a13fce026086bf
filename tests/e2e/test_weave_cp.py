"""The other weave verbs through the control plane, on the test cluster's real hosts.

A server container on h1, on no overlay, is attached to one through the API: a
container on h2 then fetches its payload as `srv.weave.local` (and by its alias),
while its container id and start time stay the same. Detached, it no longer
resolves or answers. h1 is exposed on the overlay: a process in h1's own
namespace reaches the container on h2. `GET /ps` lists the endpoints with their
MACs. Resetting h2 leaves nothing of weft's there, and the control plane agrees.
"""

import subprocess
import sys

import docker
import httpx
import pytest
from pyroute2 import IPRoute

from controlplane.devcluster.cluster import Cluster
from controlplane.devcluster.layout import HostLayout
from tests.e2e import payload
from tests.e2e.conftest import ok
from tests.eventually import eventually

pytestmark = pytest.mark.e2e

NET = "wefttest-cpweave"
SIZE = 100_000
_RESOLVE = "import socket, sys; print(socket.gethostbyname(sys.argv[1]))"
# GET http://ADDRESS/ from SOURCE: only an address the host holds can be the source.
_FETCH_FROM = (
    "import http.client, sys\n"
    "c = http.client.HTTPConnection(sys.argv[1], 80, timeout=3, source_address=(sys.argv[2], 0))\n"
    "c.request('GET', '/'); print(c.getresponse().read().decode())"
)


def _fetches(client: docker.models.containers.Container, target: str, text: str) -> bool:
    code, out = client.exec_run(payload.fetch(target))
    return code == 0 and out.decode().strip() == payload.body(text, SIZE)


def _resolves(client: docker.models.containers.Container, name: str) -> bool:
    return client.exec_run(["python3", "-c", _RESOLVE, name]).exit_code == 0


def _started(engine: docker.DockerClient, name: str) -> tuple[str, str]:
    data = engine.api.inspect_container(name)
    return data["Id"], data["State"]["StartedAt"]


def _from_namespace(host: HostLayout, address: str, source: str) -> str:
    """What http://address/ answers a process in the host's own namespace, from `source`."""
    run = subprocess.run(
        ["nsenter", f"--net={host.netns_path}", sys.executable, "-c", _FETCH_FROM, address, source],
        capture_output=True,
        text=True,
        timeout=20,
    )
    return run.stdout.strip() if run.returncode == 0 else ""


def _weft_devices(host: HostLayout) -> list[str]:
    with IPRoute(netns=host.name) as ns:
        names = [str(x.get_attr("IFLA_IFNAME")) for x in ns.get_links()]
    return [n for n in names if n.startswith(("weftv", "weftb", "weftwg"))]


def test_attach_detach_expose_ps_and_reset_through_the_control_plane(
    cluster: Cluster, api: httpx.Client, base_python_image: str
) -> None:
    h1, h2 = cluster.hosts[:2]
    i1, i2 = cluster.host_ids[h1.name], cluster.host_ids[h2.name]
    ok(api.post("/peerings", json={"a": i1, "b": i2}), 201)
    net = ok(
        api.post("/networks?wait=true", json={"name": NET, "driver": "overlay", "hosts": [i1, i2]}),
        201,
    )
    assert net["status"] == "converged", net
    image = base_python_image
    srv = ok(
        api.post(
            "/containers?wait=true",
            json={
                "host_id": i1,
                "name": "srv",
                "image": image,
                "command": payload.server("h1", SIZE),
            },
        ),
        201,
    )
    peer = ok(
        api.post(
            "/containers?wait=true",
            json={
                "host_id": i2,
                "name": "peer",
                "image": image,
                "command": payload.server("h2", SIZE),
                "networks": [{"network": NET}],
            },
        ),
        201,
    )
    assert srv["status"] == peer["status"] == "converged", (srv, peer)
    e1, e2 = cluster.engine(h1), cluster.engine(h2)
    try:
        before = _started(e1, "srv")
        client = e2.containers.get("peer")

        # Attach: the running server joins the overlay; h2 reaches it by name and alias.
        path = f"/containers/{srv['id']}/overlays/{net['id']}"
        row = ok(api.put(f"{path}?wait=true", json={"aliases": ["web"]}), 200)
        assert row["status"] == "converged", row
        eventually(lambda: _fetches(client, "srv.weave.local", "h1"), 30)
        assert _fetches(client, "web.weave.local", "h1")
        assert _started(e1, "srv") == before  # the same container, never restarted
        address = ok(api.get(f"/containers/{srv['id']}"), 200)["observed"]["addresses"][NET]
        ipam = {a["container"]: a["address"] for a in ok(api.get("/ipam"), 200)[0]["addresses"]}
        assert ipam["srv"] == address

        # ps: every endpoint on the overlay with its address and MAC, by host.
        ps = {h["host"]: h for h in ok(api.get("/ps"), 200)}
        mine = [e for e in ps[h1.name]["endpoints"] if e["name"] == "srv"]
        assert [(e["overlay"], e["address"].split("/")[0]) for e in mine] == [(NET, address)]
        mac = e1.api.inspect_container("srv")["NetworkSettings"]["Networks"][NET]["MacAddress"]
        assert mine[0]["mac_address"] == mac and mac
        assert [e["name"] for e in ps[h2.name]["endpoints"]] == ["peer"]

        # Detach: no longer resolves or answers; still the same container.
        row = ok(api.delete(f"{path}?wait=true"), 200)
        assert row["status"] == "converged", row
        eventually(lambda: not _resolves(client, "srv.weave.local"), 30)
        assert not _fetches(client, f"{address}", "h1")
        assert _started(e1, "srv") == before
        assert NET not in e1.api.inspect_container("srv")["NetworkSettings"]["Networks"]

        # Expose h1: from its exposed address, its own namespace reaches the container on h2.
        exposed = ok(api.put(f"/hosts/{i1}/exposed/{net['id']}?wait=true"), 200)
        mine_now = exposed["address"]
        peer_address = ok(api.get(f"/containers/{peer['id']}"), 200)["observed"]["addresses"][NET]
        want = payload.body("h2", SIZE)
        eventually(lambda: _from_namespace(h1, peer_address, mine_now) == want, 30)
        hosts_eps = [
            e for h in ok(api.get("/ps"), 200) for e in h["endpoints"] if e["kind"] == "host"
        ]
        assert [(e["address"], bool(e["mac_address"])) for e in hosts_eps] == [
            (f"{exposed['address']}/{exposed['prefix']}", True)
        ]
        # Hide it: h1's namespace is off the overlay again.
        assert api.delete(f"/hosts/{i1}/exposed/{net['id']}?wait=true").status_code == 204
        assert _from_namespace(h1, peer_address, mine_now) == ""

        # Reset h2: nothing of weft's stays on it, and the control plane agrees.
        done = ok(api.post(f"/hosts/{i2}/reset"), 200)
        assert "peer" in done["removed"]["containers"] and NET in done["removed"]["networks"]
        assert done["forgotten"]["containers"] == ["peer"]
        assert not e2.containers.list(all=True, filters={"label": "weft.managed=true"})
        assert not e2.networks.list(filters={"label": "weft.managed=true"})
        assert _weft_devices(h2) == []
        with cluster.agent(h2) as agent:
            assert agent.get("/v1/dns").json()["records"] == []
        assert all(c["host_id"] != i2 for c in ok(api.get("/containers"), 200))
        assert ok(api.get("/peerings"), 200) == []
        blocks = ok(api.get("/ipam"), 200)[0]["blocks"]
        assert all(b["host_id"] != i2 for b in blocks)
        records = {h["host_id"]: h["records"] for h in ok(api.get("/dns"), 200)}
        assert all(r["name"] != "peer" for r in records[i1])
        # Nothing comes back on h2 at its reconciler's next passes.
        managed = {"label": "weft.managed=true"}
        eventually(lambda: not e2.containers.list(all=True, filters=managed), 5)
        assert ok(api.get(f"/hosts/{i2}"), 200)["status"] == "ready"
    finally:
        e1.close()
        e2.close()
