"""`make up`'s job end to end: the world stack on the real engine, then `down`."""

import json
import socket
import urllib.request

import docker
import pytest

from controlplane.build.world import LABEL, Names, down, up
from tests.harness import TEST_LABEL, unique

pytestmark = pytest.mark.e2e


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _sql(container: docker.models.containers.Container, query: str) -> str:
    code, out = container.exec_run(["mariadb", "-N", "-B", "world", "-e", query])
    assert code == 0, out
    return str(out.decode().strip())


def test_world_up_serves_the_seed_search_and_down_removes_it(
    docker_client: docker.DockerClient, weft_images: dict[str, str]
) -> None:
    names = Names(unique("wefttest-world"))
    mine = {"label": f"{LABEL}={names.prefix}"}
    port = _free_port()
    try:
        world = up(port=port, client=docker_client, names=names, labels={TEST_LABEL: "1"})
        db = docker_client.containers.get(names.db)
        assert _sql(db, "SELECT COUNT(*) FROM cities") == "170391"
        assert _sql(db, "SELECT COUNT(*) FROM countries") == "252"

        with urllib.request.urlopen(f"{world.url}/cities?q=darwin", timeout=10) as resp:
            items = json.load(resp)["items"]
        assert [(i["country"], i["name"]) for i in items] == [
            ("Argentina", "Darwin"),
            ("Australia", "Darwin"),
            ("Zimbabwe", "Mount Darwin"),
        ]
        # A second `up` keeps what runs: same containers, no reload.
        before = {c.name: c.id for c in docker_client.containers.list(filters=mine)}
        up(port=port, client=docker_client, names=names, labels={TEST_LABEL: "1"})
        after = {c.name: c.id for c in docker_client.containers.list(filters=mine)}
        assert before == after
    finally:
        down(client=docker_client, names=names)
    assert docker_client.containers.list(all=True, filters=mine) == []
    assert docker_client.networks.list(filters=mine) == []
    with pytest.raises(docker.errors.NotFound):
        docker_client.volumes.get(names.volume)
