"""Host invariants under concurrency, on SQLite, PostgreSQL and MariaDB (issue 8, item 1).

20 parallel writes that all want one published host port, one subnet or one fixed
address: exactly one is stored (201), the other 19 get 409, and the winner
converges on the real engine with nothing failed and nothing extra created.
"""

import random
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import docker
import pytest

from tests.harness import MariaDB, Postgres
from tests.integration.cp_procs import IDLE, Stack, free_port, running_stack, wait_until

pytestmark = pytest.mark.integration

RACERS = 20


@pytest.fixture(params=["sqlite", "postgres", "mariadb"])
def server_env(request: pytest.FixtureRequest) -> Iterator[dict[str, str]]:
    """The control plane's DATABASE_URL: its own SQLite file, or a fresh server database."""
    if request.param == "sqlite":
        yield {}
    elif request.param == "postgres":
        pg: Postgres = request.getfixturevalue("postgres")
        name = pg.create_database()
        yield {"DATABASE_URL": pg.url(name)}
        pg.drop_database(name)
    else:
        m: MariaDB = request.getfixturevalue("mariadb")
        name = m.create_database()
        yield {"DATABASE_URL": f"mysql://{m.user}:{m.password}@{m.host}:{m.port}/{name}"}
        m.drop_database(name)


def _race(stack: Stack, path: str, bodies: list[dict[str, Any]]) -> list[Any]:
    """POST every body at once; the (status, json) answers in body order."""
    with ThreadPoolExecutor(len(bodies)) as pool:
        answers = list(pool.map(lambda b: stack.api.post(path, json=b), bodies))
    return [(r.status_code, r.json()) for r in answers]


def _one_winner(answers: list[Any]) -> dict[str, Any]:
    statuses = sorted(status for status, _ in answers)
    assert statuses == [201] + [409] * (RACERS - 1), answers
    return next(body for status, body in answers if status == 201)


def _converged(stack: Stack, kind: str, rid: int) -> None:
    def done() -> bool:
        row = stack.call("GET", f"/{kind}/{rid}", 200)
        assert row["status"] != "failed", row
        return bool(row["status"] == "converged")

    wait_until(done, 90)


def test_one_port_one_subnet_one_address_under_20_parallel_writes(
    docker_client: docker.DockerClient,
    base_python_image: str,
    tmp_path: Path,
    server_env: dict[str, str],
) -> None:
    with running_stack(docker_client, tmp_path, server_env) as stack:
        p, hid = stack.prefix, stack.host_id
        container = {"host_id": hid, "image": base_python_image, "command": IDLE}
        port = free_port()
        answers = _race(
            stack,
            "/containers",
            [
                {
                    **container,
                    "name": f"{p}-port{i}",
                    "ports": [{"container_port": 80, "host_port": port}],
                }
                for i in range(RACERS)
            ],
        )
        web = _one_winner(answers)
        assert all(body["errors"][0]["loc"][1] == "ports" for s, body in answers if s == 409)

        subnet = f"10.{random.randint(150, 199)}.{random.randint(0, 255)}.0/24"
        answers = _race(
            stack,
            "/networks",
            [{"name": f"{p}-net{i}", "host_id": hid, "subnet": subnet} for i in range(RACERS)],
        )
        net = _one_winner(answers)

        fixed = subnet.replace(".0/24", ".10")
        answers = _race(
            stack,
            "/containers",
            [
                {
                    **container,
                    "name": f"{p}-ip{i}",
                    "networks": [{"network": net["name"], "ipv4_address": fixed}],
                }
                for i in range(RACERS)
            ],
        )
        pinned = _one_winner(answers)

        _converged(stack, "containers", web["id"])
        _converged(stack, "networks", net["id"])
        _converged(stack, "containers", pinned["id"])
        rows = stack.call("GET", "/containers", 200)
        assert sorted(r["name"] for r in rows) == sorted([web["name"], pinned["name"]])
        assert all(r["status"] == "converged" for r in rows), rows
        on_engine = {
            c.name for c in docker_client.containers.list(all=True) if c.name.startswith(p)
        }
        assert on_engine == {web["name"], pinned["name"]}
        nets = {n.name for n in docker_client.networks.list() if n.name.startswith(p)}
        assert nets == {net["name"]}
        inspected = docker_client.containers.get(pinned["name"]).attrs["NetworkSettings"]
        assert inspected["Networks"][net["name"]]["IPAddress"] == fixed
