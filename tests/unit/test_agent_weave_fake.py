"""The weave verbs' scenario through `AgentClient` against the fake agent, and its reset."""

import asyncio

from controlplane.contract import schemas as A
from controlplane.contract.dns import DnsRecordSet
from controlplane.contract.overlay import OverlaySpec
from controlplane.server.agentclient import AgentClient
from tests.unit import weave_scenario
from tests.unit.cp_fake_agent import TOKEN, FakeAgent

SUBNET = "10.48.0.0/16"
OVERLAY = OverlaySpec(
    vni=42, subnet=SUBNET, ip_range="10.48.1.0/24", gateway="10.48.1.1", local="10.231.0.11"
)


async def _ready(fake: FakeAgent) -> AgentClient:
    """A client of the fake with the overlay `ov` and the running container `srv` on it."""
    agent = AgentClient("http://fake:7000", TOKEN, transport=fake.transport(), retries=0)
    await agent.ensure_overlay("ov", OVERLAY)
    await agent.ensure_container("srv", A.ContainerSpec(image="img"))
    return agent


def test_the_weave_scenario_holds_on_the_fake_agent() -> None:
    async def go() -> None:
        fake = FakeAgent()
        async with await _ready(fake) as agent:
            before = fake.containers["srv"].id
            await weave_scenario.run(agent, "ov", SUBNET, "srv")
        assert fake.containers["srv"].id == before  # the same container throughout

    asyncio.run(go())


def test_reset_removes_what_weft_made_and_a_second_one_nothing() -> None:
    async def go() -> None:
        fake = FakeAgent()
        async with await _ready(fake) as agent:
            await agent.expose("ov", "10.48.200.1")
            records = DnsRecordSet.model_validate(
                {"records": [{"name": "srv", "addresses": ["10.48.1.2"]}]}
            )
            await agent.set_dns(records)
            done = await agent.reset()
            assert (done.containers, done.networks) == (["srv"], ["ov"])
            assert done.exposed == ["ov:10.48.200.1/16"] and done.dns_records == 1
            assert await agent.list_containers() == [] and await agent.list_overlays() == []
            assert (await agent.get_dns()).records == []
            again = await agent.reset()
            assert again.containers == again.networks == again.exposed == []

    asyncio.run(go())
