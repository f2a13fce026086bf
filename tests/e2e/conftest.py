"""Fixtures the cluster tests share."""

from collections.abc import Iterator

import docker
import pytest

from controlplane.devcluster.cluster import Cluster


@pytest.fixture
def engines(cluster: Cluster) -> Iterator[list[docker.DockerClient]]:
    """A docker SDK client of each cluster host's own engine, h1 first; closed afterwards."""
    clients = [cluster.engine(h) for h in cluster.hosts]
    yield clients
    for c in clients:
        c.close()
