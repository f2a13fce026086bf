"""`make up`'s job end to end: the control plane deploys the world stack, then `down`.

It runs beside a user's own `make up` on the same engine, under its own prefix,
ports, state folder and stack name.
"""

import json
import socket
import stat
import urllib.request
from pathlib import Path

import docker
import httpx
import pytest

from controlplane.contract import labels
from controlplane.launch.local import LAUNCH_LABEL, Site
from controlplane.launch.world import down, up
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


def test_world_up_goes_through_the_control_plane_and_down_removes_it(
    docker_client: docker.DockerClient, weft_images: dict[str, str], tmp_path: Path
) -> None:
    name = unique("wefttestworld")
    site = Site(
        prefix=name,
        stack=name,
        api_port=_free_port(),
        agent_port=_free_port(),
        search_port=_free_port(),
        state_dir=tmp_path / "state",
        agent_token_file=tmp_path / "agent" / "agent.token",
        labels={TEST_LABEL: "1"},
    )
    mine = {"label": f"{labels.STACK}={name}"}
    try:
        stack = up(site, docker_client)
        assert stack["status"] == "converged"
        assert {s["name"]: s["running"] for s in stack["services"]} == {
            "searchapi": 1,
            "worlddb": 1,
        }
        db = docker_client.containers.get(f"{name}-worlddb-1")
        assert _sql(db, "SELECT COUNT(*) FROM cities") == "170391"
        assert _sql(db, "SELECT COUNT(*) FROM countries") == "252"
        url = f"http://127.0.0.1:{site.search_port}/cities?q=darwin"
        with urllib.request.urlopen(url, timeout=10) as resp:
            items = json.load(resp)["items"]
        assert [(i["country"], i["name"]) for i in items] == [
            ("Argentina", "Darwin"),
            ("Australia", "Darwin"),
            ("Zimbabwe", "Mount Darwin"),
        ]
        # The control plane and the agent run as containers that come back with dockerd.
        for part in (site.agent, site.controlplane):
            policy = docker_client.containers.get(part).attrs["HostConfig"]["RestartPolicy"]
            assert policy["Name"] == "unless-stopped"
        token = site.admin_token_file.read_text().strip()
        api = httpx.Client(base_url=site.api_url, headers={"Authorization": f"Bearer {token}"})
        assert api.get(f"/stacks/{name}").json()["status"] == "converged"
        assert stat.S_IMODE(site.state_dir.stat().st_mode) == 0o700
        assert stat.S_IMODE(site.agent_token_file.stat().st_mode) == 0o600

        # A second `up` keeps what runs: same containers, no reload.
        before = {c.name: c.id for c in docker_client.containers.list(filters=mine)}
        up(site, docker_client)
        after = {c.name: c.id for c in docker_client.containers.list(filters=mine)}
        assert before == after
    finally:
        down(site, docker_client)
    assert docker_client.containers.list(all=True, filters=mine) == []
    assert docker_client.networks.list(filters=mine) == []
    assert docker_client.volumes.list(filters=mine) == []
    launched = {"label": f"{LAUNCH_LABEL}={name}"}
    assert docker_client.containers.list(all=True, filters=launched) == []
    assert not site.state_dir.exists() and not site.agent_token_file.exists()
