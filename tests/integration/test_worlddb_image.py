"""The weft/worlddb image on the real engine: loads once, turns healthy, keeps its data."""

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncmy
import docker
import docker.errors
import pytest
from docker.models.containers import Container
from docker.models.networks import Network

from tests.geonames_samples import CITIES, city_line, write_pair
from tests.harness import TEST_LABEL, other_test_runs, unique

pytestmark = pytest.mark.integration

PASSWORD = "wefttest-search"
VOLUME_PREFIX = "wefttest-worlddb"
# The first start loads 170,391 cities and builds the search index.
FIRST_LOAD_SECONDS = 600


@pytest.fixture(scope="module")
def worlddb_image(docker_client: docker.DockerClient) -> str:
    """weft/worlddb:<version>, built by the image builder unless it is up to date."""
    from controlplane.build.images import build_all

    return build_all(only=["worlddb"], client=docker_client)[0]


@pytest.fixture(scope="module")
def network(docker_client: docker.DockerClient) -> Iterator[Network]:
    """A bridge network of this test's own: the only addresses it talks to."""
    if not other_test_runs():
        for stale in docker_client.volumes.list(filters={"label": TEST_LABEL}):
            if stale.name.startswith(VOLUME_PREFIX):
                stale.remove(force=True)
    net = docker_client.networks.create(unique(), driver="bridge", labels={TEST_LABEL: "1"})
    yield net
    net.remove()


def _logs(container: Container) -> str:
    return container.logs(tail=60).decode("utf-8", "replace")


def _wait_healthy(container: Container, timeout: float) -> None:
    """Poll the health check until healthy; fail early if the container stops."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        container.reload()
        state = container.attrs["State"]
        if state["Status"] in ("exited", "dead"):
            pytest.fail(f"worlddb stopped ({state['ExitCode']}):\n{_logs(container)}")
        if state.get("Health", {}).get("Status") == "healthy":
            return
        time.sleep(1)
    pytest.fail(f"worlddb not healthy after {timeout} s:\n{_logs(container)}")


def _wait_exited(container: Container, timeout: float) -> int:
    result = container.wait(timeout=timeout)
    return int(result["StatusCode"])


def _address(container: Container, network: Network) -> str:
    container.reload()
    return str(container.attrs["NetworkSettings"]["Networks"][network.name]["IPAddress"])


async def _query(host: str, sql: str) -> list[tuple[Any, ...]]:
    """Run `sql` as the search API's account over the test network."""
    conn = await asyncmy.connect(
        host=host, port=3306, user="search", password=PASSWORD, database="world"
    )
    try:
        async with conn.cursor() as cur:
            await cur.execute(sql)
            return list(await cur.fetchall())
    finally:
        await conn.ensure_closed()


def test_worlddb_loads_once_and_serves_across_restarts(
    docker_client: docker.DockerClient, worlddb_image: str, network: Network
) -> None:
    volume = docker_client.volumes.create(unique(VOLUME_PREFIX), labels={TEST_LABEL: "1"})
    container = docker_client.containers.run(
        worlddb_image,
        detach=True,
        name=unique(),
        labels={TEST_LABEL: "1"},
        network=network.name,
        environment={"WORLDDB_PASSWORD": PASSWORD},
        volumes={volume.name: {"bind": "/var/lib/mysql", "mode": "rw"}},
    )
    try:
        started = time.monotonic()
        _wait_healthy(container, FIRST_LOAD_SECONDS)
        print(f"worlddb healthy {time.monotonic() - started:.1f} s after start")
        # The image brought the data: Docker filled the empty volume, nothing was loaded.
        assert "already loaded" in _logs(container)
        host = _address(container, network)
        counts = "SELECT (SELECT COUNT(*) FROM countries), (SELECT COUNT(*) FROM cities)"
        assert asyncio.run(_query(host, counts)) == [(252, 170391)]
        darwin = asyncio.run(
            _query(
                host,
                "SELECT ci.name, co.name FROM cities ci JOIN countries co"
                " ON co.iso = ci.country_code WHERE ci.name LIKE '%Darwin%' ORDER BY 2, 1",
            )
        )
        assert darwin == [
            ("Darwin", "Argentina"),
            ("Darwin", "Australia"),
            ("Mount Darwin", "Zimbabwe"),
        ]
        state = "SELECT status, countries, cities, loaded_at FROM load_state"
        before = asyncio.run(_query(host, state))
        assert before[0][:3] == ("loaded", 252, 170391)
        # The search account reads and nothing more.
        with pytest.raises(asyncmy.errors.OperationalError, match="command denied"):
            asyncio.run(_query(host, "DELETE FROM cities"))

        container.restart(timeout=30)
        _wait_healthy(container, 120)
        # Same data, same load: the restart found it in the volume and did not reload.
        assert asyncio.run(_query(host_after := _address(container, network), state)) == before
        assert asyncio.run(_query(host_after, counts)) == [(252, 170391)]
        assert "already loaded" in _logs(container)
        # `docker stop` (SIGTERM) shuts MariaDB down cleanly, not by the 10 s kill.
        stopped = time.monotonic()
        container.stop(timeout=30)
        assert time.monotonic() - stopped < 20
        assert _wait_exited(container, 10) == 0
        assert "Shutdown complete" in container.logs().decode("utf-8", "replace")
    finally:
        container.remove(force=True, v=True)
        volume.remove(force=True)


def test_worlddb_refuses_defective_files_and_names_the_line(
    docker_client: docker.DockerClient, worlddb_image: str, network: Network, tmp_path: Path
) -> None:
    lines = [city_line(r) for r in CITIES]
    lines[2] = city_line((*CITIES[2][:4], "abc", *CITIES[2][5:]))
    write_pair(tmp_path, cities=lines)
    tmp_path.chmod(0o755)
    container = docker_client.containers.run(
        worlddb_image,
        detach=True,
        name=unique(),
        labels={TEST_LABEL: "1"},
        network=network.name,
        environment={"WORLDDB_PASSWORD": PASSWORD},
        volumes={str(tmp_path): {"bind": "/data", "mode": "ro"}},
    )
    try:
        assert _wait_exited(container, 300) == 1
        logs = container.logs().decode("utf-8", "replace")
        assert "cities1000.txt:3: latitude 'abc' is not a number" in logs
        assert "the world data was not loaded" in logs
    finally:
        container.remove(force=True, v=True)
