"""Fixtures the cluster tests share."""

from collections.abc import Iterator

import docker
import httpx
import pytest

from controlplane.devcluster.cluster import Cluster


@pytest.fixture
def engines(cluster: Cluster) -> Iterator[list[docker.DockerClient]]:
    """A docker SDK client of each cluster host's own engine, h1 first; closed afterwards."""
    clients = [cluster.engine(h) for h in cluster.hosts]
    yield clients
    for c in clients:
        c.close()


@pytest.fixture
def api(cluster: Cluster) -> Iterator[httpx.Client]:
    """The cluster's control plane (admin token); left clean afterwards: no containers,
    networks, peerings or mesh password of the test's stay in the session's control plane."""
    with cluster.api() as client:
        yield client
        for c in client.get("/containers").json():
            client.delete(f"/containers/{c['id']}?wait=true")
        for n in client.get("/networks").json():
            client.delete(f"/networks/{n['id']}?wait=true")
        for p in client.get("/peerings").json():
            client.delete(f"/peerings/{p['id']}")
        client.delete("/mesh/password")


def ok(r: httpx.Response, status: int = 201) -> dict:
    """The JSON answer, once its status is the one expected (the body says why not)."""
    assert r.status_code == status, r.text
    return r.json()
