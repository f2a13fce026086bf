"""`cluster`: a session's test cluster (hosts as namespaces, each with dockerd and agent).

Its name starts with `wefttc` and records this pytest process as its owner, so a
later session removes it if this one is killed before its teardown, while a
cluster of another session that is still running is left alone.
"""

import os
import uuid
from collections.abc import Iterator

import pytest

from controlplane.devcluster import cluster as devcluster

PREFIX = "wefttc"
HOSTS = 3
# The control plane reconciles every second, so tests see convergence quickly.
SERVER_ENV = {"WEFT_RECONCILE_INTERVAL": "1", "WEFT_BACKOFF_MAX": "1", "WEFT_WAIT_TIMEOUT": "60"}


@pytest.fixture(scope="session")
def cluster(system: None, base_python_image: str) -> Iterator[devcluster.Cluster]:
    """Three hosts with the base image loaded through their agents, registered with a control
    plane; everything is removed at the end (and leftovers of killed runs at the start)."""
    devcluster.sweep(PREFIX)
    name = f"{PREFIX}{uuid.uuid4().hex[:4]}"
    c = devcluster.up(name, HOSTS, server_env=SERVER_ENV, owner_pid=os.getpid())
    try:
        c.load_image(base_python_image)
        c.register()
        yield c
    finally:
        devcluster.down(name)
