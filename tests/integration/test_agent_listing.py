"""The agent's container list, which keeps inspections between calls, against the real dockerd.

Whatever is changed behind the agent's back (stop, start, restart, a network
joined with an alias, a health check turning) shows in the next list exactly as
a fresh `docker inspect` says, and a list of unchanged containers inspects none.
"""

import random
from typing import Any

import docker
import pytest

from controlplane.agent.driver.inspections import inspect_mark, summary_mark
from controlplane.agent.driver.state import to_state
from controlplane.contract import labels as L
from controlplane.contract.schemas import ContainerSpec, ContainerState
from controlplane.server.agentclient import AgentClient
from tests.eventually import eventually, eventually_async
from tests.harness import unique
from tests.integration import agent_app

pytestmark = pytest.mark.integration
agent = agent_app.agent  # the fixture
TEST = {L.TEST: "1"}


@pytest.fixture
def network(docker_client: docker.DockerClient) -> Any:
    """A plain bridge network made for the test (removed afterwards)."""
    subnet = f"10.{random.randint(200, 250)}.{random.randint(0, 255)}.0/24"
    ipam = docker.types.IPAMConfig(pool_configs=[docker.types.IPAMPool(subnet=subnet)])
    net = docker_client.networks.create(unique(), ipam=ipam, labels=TEST)
    yield net
    net.remove()


def _spec(image: str, **kw: Any) -> ContainerSpec:
    return ContainerSpec(
        image=image,
        command=["sleep", "infinity"],
        init=True,
        labels=TEST,
        **kw,
    )


async def _listed(agent: AgentClient, name: str) -> ContainerState:
    return next(c for c in await agent.list_containers(TEST) if c.name == name)


def _inspected(client: docker.DockerClient, name: str) -> ContainerState:
    return to_state(client.api.inspect_container(name))


async def _list_agrees(agent: AgentClient, client: docker.DockerClient, name: str) -> None:
    """The listed state is, field for field, what inspect says now (events may lag)."""

    async def agrees() -> bool:
        return await _listed(agent, name) == _inspected(client, name)

    await eventually_async(agrees, timeout=20, every=0.05)


async def test_changes_behind_the_agents_back_show_in_the_next_list(
    agent: AgentClient, docker_client: docker.DockerClient, base_python_image: str, network: Any
) -> None:
    name = unique()
    made = await agent.ensure_container(name, _spec(base_python_image))
    assert await _listed(agent, name) == made.container == _inspected(docker_client, name)

    # A change the list's summary shows is seen at once, without waiting for its event.
    docker_client.api.stop(name, timeout=1)
    stopped = await _listed(agent, name)
    assert stopped.status == "exited" and stopped == _inspected(docker_client, name)
    docker_client.api.start(name)
    assert await _listed(agent, name) == _inspected(docker_client, name)

    # Joining a network with an alias behind the agent's back.
    network.connect(name, aliases=["extra-alias"])
    joined = await _listed(agent, name)
    assert "extra-alias" in joined.networks[network.name].aliases
    assert joined == _inspected(docker_client, name)
    network.disconnect(name)
    assert network.name not in (await _listed(agent, name)).networks
    await agent.delete_container(name)
    assert name not in [c.name for c in await agent.list_containers(TEST)]


async def test_a_restart_shows_in_the_list(
    agent: AgentClient, docker_client: docker.DockerClient, base_python_image: str
) -> None:
    """In another's namespace it has no endpoint of its own, so its summary looks the
    same after a restart: only the restart's event can tell."""
    owner, name = unique(), unique()
    await agent.ensure_container(owner, _spec(base_python_image))
    await agent.ensure_container(name, _spec(base_python_image, network_mode=f"container:{owner}"))
    before = await _listed(agent, name)
    docker_client.api.restart(name, timeout=1)
    await _list_agrees(agent, docker_client, name)
    assert (await _listed(agent, name)).started_at != before.started_at
    for gone in (name, owner):
        await agent.delete_container(gone)


async def test_health_turning_shows_in_the_list(
    agent: AgentClient, docker_client: docker.DockerClient, base_python_image: str
) -> None:
    name = unique()
    health = {"test": ["CMD", "test", "-e", "/tmp/ok"], "interval_s": 0.2, "retries": 1}
    await agent.ensure_container(name, _spec(base_python_image, healthcheck=health))

    async def listed_as(status: str) -> bool:
        return (await _listed(agent, name)).status == status

    await eventually_async(lambda: listed_as("unhealthy"), timeout=30, every=0.1)
    docker_client.api.exec_start(docker_client.api.exec_create(name, ["touch", "/tmp/ok"]))
    await eventually_async(lambda: listed_as("healthy"), timeout=30, every=0.1)
    assert await _listed(agent, name) == _inspected(docker_client, name)
    await agent.delete_container(name)


async def test_a_list_of_unchanged_containers_inspects_none(
    agent: AgentClient,
    docker_client: docker.DockerClient,
    base_python_image: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    names = [unique() for _ in range(3)]
    for name in names:
        await agent.ensure_container(name, _spec(base_python_image))
    await agent.list_containers(TEST)  # inspects what it has not seen yet
    inspected: list[str] = []
    real = docker_client.api.inspect_container

    def counting(container: str) -> Any:
        inspected.append(container)
        return real(container)

    monkeypatch.setattr(docker_client.api, "inspect_container", counting)
    again = {c.name: c for c in await agent.list_containers(TEST)}
    assert inspected == []
    assert all(again[n] == to_state(real(n)) for n in names)
    docker_client.api.stop(names[0], timeout=1)
    await agent.list_containers(TEST)
    assert [i for i in inspected if i in {again[n].id for n in names}] == [again[names[0]].id]
    for name in names:
        await agent.delete_container(name)


async def test_summary_and_inspect_marks_agree(
    docker_client: docker.DockerClient, base_python_image: str, network: Any
) -> None:
    """The two readings of a container's changing parts are equal in every state."""
    api, made = docker_client.api, []
    try:
        created = api.create_container(base_python_image, ["sleep", "infinity"], labels=TEST)
        made.append(created["Id"])
        exits = api.create_container(base_python_image, ["sh", "-c", "exit 3"], labels=TEST)
        made.append(exits["Id"])
        api.start(exits["Id"])
        api.wait(exits["Id"], timeout=30)
        runs = api.create_container(
            base_python_image,
            ["sleep", "infinity"],
            labels=TEST,
            host_config=api.create_host_config(network_mode=network.name),
            healthcheck=docker.types.Healthcheck(test=["CMD", "true"], interval=200_000_000),
        )
        made.append(runs["Id"])
        api.start(runs["Id"])
        # Read in a still moment (a health check may turn between the two reads).
        eventually(
            lambda: api.inspect_container(runs["Id"])["State"]["Health"]["Status"] == "healthy"
        )
        for cid in made:
            summary = api.containers(all=True, filters={"id": cid})[0]
            assert summary_mark(summary) == inspect_mark(api.inspect_container(cid)), summary
        assert inspect_mark(api.inspect_container(exits["Id"]))[2] == 3
        assert inspect_mark(api.inspect_container(runs["Id"]))[1] == "healthy"
    finally:
        for cid in made:
            api.remove_container(cid, force=True)
