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
    """A client of the cluster's control plane; what the test left there is removed after."""
    with cluster.api() as client:
        yield client
        for c in client.get("/containers").json():  # leave the session's control plane clean
            client.delete(f"/containers/{c['id']}?wait=true")
        for n in client.get("/networks").json():
            client.delete(f"/networks/{n['id']}?wait=true")
        for p in client.get("/peerings").json():
            client.delete(f"/peerings/{p['id']}")
