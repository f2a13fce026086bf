"""The weave verbs' scenario through `AgentClient` against the fake agent, and its reset."""

import asyncio

from controlplane.contract import schemas as A
from controlplane.contract.overlay import VNI_LABEL
from controlplane.server.agentclient import AgentClient
from tests.unit import weave_scenario
from tests.unit.cp_fake_agent import TOKEN, FakeAgent

SUBNET = "10.48.0.0/16"


def _fake() -> FakeAgent:
    fake = FakeAgent()
    fake.networks["ov"] = A.NetworkState(
        name="ov",
        id="net-ov",
        driver="bridge",
        subnet=SUBNET,
        gateway="10.48.1.1",
        labels={VNI_LABEL: "42", "weft.managed": "true"},
    )
    return fake


async def _with_container(fake: FakeAgent) -> AgentClient:
    agent = AgentClient("http://fake:7000", TOKEN, transport=fake.transport(), retries=0)
    await agent.ensure_container("srv", A.ContainerSpec(image="img"))
    return agent


def test_the_weave_scenario_holds_on_the_fake_agent() -> None:
    async def go() -> None:
        fake = _fake()
        async with await _with_container(fake) as agent:
            before = fake.containers["srv"].id
            await weave_scenario.run(agent, "ov", SUBNET, "srv")
        assert fake.containers["srv"].id == before  # the same container throughout

    asyncio.run(go())


def test_reset_removes_what_weft_made_and_a_second_one_nothing() -> None:
    async def go() -> None:
        fake = _fake()
        async with await _with_container(fake) as agent:
            await agent.expose("ov", "10.48.200.1")
            done = await agent.reset()
            assert (done.containers, done.networks) == (["srv"], ["ov"])
            assert done.exposed == ["ov:10.48.200.1/16"]
            assert await agent.list_containers() == [] and await agent.list_networks() == []
            again = await agent.reset()
            assert again.containers == again.networks == again.exposed == []

    asyncio.run(go())
