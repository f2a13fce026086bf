"""Fault tests: the agent or the control plane dies (SIGKILL) mid-reconcile and restarts.

Either way the host converges to exactly the desired containers: none lost, none
duplicated, none orphaned. Counts before and after are printed and logged.
"""

import logging
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest

from tests.integration.cp_procs import IDLE, Stack, ours, running_stack, wait_until

pytestmark = pytest.mark.integration
log = logging.getLogger("weft.test.faults")
# Three times the creates a host runs at once (WEFT_PARALLEL_ACTIONS, 4): a kill after
# the first change still lands with work left, however fast one batch goes.
N = 12


@pytest.fixture
def stack(
    docker_client: docker.DockerClient, base_python_image: str, tmp_path: Path
) -> Iterator[Stack]:
    """A fresh agent + control plane per test (they get killed)."""
    with running_stack(docker_client, tmp_path) as s:
        yield s


def _ask_for_n(stack: Stack, image: str) -> set[str]:
    names = {f"{stack.prefix}-c{i}" for i in range(N)}
    for name in sorted(names):
        stack.call(
            "POST",
            "/containers",
            201,
            json={"name": name, "host_id": stack.host_id, "image": image, "command": IDLE},
        )
    return names


def _report(stage: str, client: docker.DockerClient, owner: str) -> list[str]:
    names = sorted(c.name for c in ours(client, owner))
    line = f"{stage}: {len(names)} weft containers on the host ({len(set(names))} distinct)"
    print(line)
    log.warning(line)
    return names


def _converged(stack: Stack, names: set[str], client: docker.DockerClient, owner: str) -> None:
    def done() -> bool:
        rows = stack.call("GET", "/containers")
        return len(rows) == N and all(
            r["status"] == "converged" and r["observed"].get("state") == "running" for r in rows
        )

    wait_until(done, 90)
    after = _report("after", client, owner)
    assert sorted(after) == sorted(names)  # nothing lost, nothing duplicated, no orphan
    by_name = {c.name: c for c in ours(client, owner)}
    for row in stack.call("GET", "/containers"):
        c = by_name[row["name"]]
        assert c.status == "running"
        assert c.id == row["observed"]["docker_id"]  # the API points at the real one


def test_agent_killed_mid_reconcile_converges(
    stack: Stack, docker_client: docker.DockerClient, base_python_image: str
) -> None:
    owner = stack.owner()
    names = _ask_for_n(stack, base_python_image)
    # Kill the agent once it has made some, not all, of them.
    wait_until(lambda: len(ours(docker_client, owner)) >= 1, 30, every=0.02)
    stack.agent.kill()
    before = _report("before (agent killed)", docker_client, owner)
    assert len(before) < N, "the agent finished before it could be killed"
    host = wait_until(
        lambda: (
            (h := stack.call("GET", f"/hosts/{stack.host_id}"))["status"] == "unreachable" and h
        ),
        30,
    )
    assert "unreachable" in host["status_reason"]
    stack.agent.start()
    _converged(stack, names, docker_client, owner)
    assert stack.call("GET", f"/hosts/{stack.host_id}")["status"] == "ready"


def test_control_plane_killed_mid_reconcile_converges(
    stack: Stack, docker_client: docker.DockerClient, base_python_image: str
) -> None:
    owner = stack.owner()
    names = _ask_for_n(stack, base_python_image)
    wait_until(lambda: len(ours(docker_client, owner)) >= 1, 30, every=0.02)
    stack.server.kill()
    before = _report("before (control plane killed)", docker_client, owner)
    assert len(before) < N, "the control plane finished before it could be killed"
    # A stray of this control plane appears while it is down: it must be removed.
    docker_client.containers.run(
        base_python_image,
        IDLE,
        name=f"{stack.prefix}-stray",
        detach=True,
        labels={"weft.managed": "true", "weft.owner": owner},
    )
    stack.server.start()  # same state dir: same database, same owner id
    _converged(stack, names, docker_client, owner)


def test_agent_killed_mid_recreate_converges(
    stack: Stack, docker_client: docker.DockerClient, base_python_image: str
) -> None:
    owner = stack.owner()
    names = _ask_for_n(stack, base_python_image)
    _converged(stack, names, docker_client, owner)
    old_ids = {c.id for c in ours(docker_client, owner)}
    for row in stack.call("GET", "/containers"):
        stack.call("PATCH", f"/containers/{row['id']}", 200, json={"env": {"GEN": "2"}})

    def some_replaced() -> bool:
        now = {c.id for c in ours(docker_client, owner)}
        return len(now) < N or bool(now - old_ids)

    wait_until(some_replaced, 30, every=0.02)
    stack.agent.kill()
    before = _report("before (agent killed mid-recreate)", docker_client, owner)
    replaced = {c.id for c in ours(docker_client, owner)} - old_ids
    assert len(replaced) < N, "the agent finished before it could be killed"
    assert len(before) == len(set(before))
    stack.agent.start()
    _converged(stack, names, docker_client, owner)
    for c in ours(docker_client, owner):
        assert "GEN=2" in c.attrs["Config"]["Env"]
        assert c.id not in old_ids
