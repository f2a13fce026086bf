"""The agent's change feed (`GET /v1/changes`) against the real engine.

Many open long polls hold no worker thread: the agent's other routes, whose
Docker calls run in a small thread pool, still answer while they wait, and one
container event answers every one of them.
"""

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import docker
import httpx
import pytest
from fastapi import FastAPI

from controlplane.agent.app import create_app
from controlplane.agent.settings import AgentSettings
from controlplane.contract import labels as L
from controlplane.server.agentclient import AgentClient
from tests.eventually import eventually_async
from tests.harness import unique
from tests.integration.agent_app import TOKEN

pytestmark = pytest.mark.integration

# More than the thread pool's 40 workers that the agent's blocking calls share.
POLLS = 60


@pytest.fixture
async def app(docker_client: docker.DockerClient, tmp_path: Path) -> AsyncIterator[FastAPI]:
    """An agent app on the real engine, its lifespan (and event follower) running."""
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN)
    made = create_app(AgentSettings(token_file=token_file, owner="wefttest"), engine=docker_client)
    async with made.router.lifespan_context(made):
        await asyncio.to_thread(made.state.link_keeper.ready.wait, 30)
        yield made


async def test_open_long_polls_hold_no_thread_and_one_event_answers_them_all(
    app: FastAPI, docker_client: docker.DockerClient, base_python_image: str
) -> None:
    transport = httpx.ASGITransport(app=app)
    async with AgentClient("http://agent", TOKEN, transport=transport, timeout=120) as agent:
        seen = (await agent.wait_changes(0, 0)).seq
        polls = [asyncio.create_task(agent.wait_changes(seen, 50)) for _ in range(POLLS)]
        try:

            async def all_waiting() -> bool:
                return bool(app.state.link_keeper.changes.waiting == POLLS)

            await eventually_async(all_waiting, timeout=20)
            # A route whose Docker call needs a worker thread answers meanwhile.
            async with asyncio.timeout(10):
                await agent.list_containers({L.TEST: "1"})
            assert not any(p.done() for p in polls)
            container = docker_client.containers.run(
                base_python_image,
                ["sleep", "infinity"],
                name=unique(),
                labels={L.MANAGED: L.MANAGED_VALUE, L.TEST: "1"},
                init=True,
                detach=True,
            )
            try:
                async with asyncio.timeout(10):
                    answers = await asyncio.gather(*polls)
            finally:
                container.remove(force=True)
        finally:
            for p in polls:
                p.cancel()
    assert len(answers) == POLLS
    assert {a.seq for a in answers} <= set(range(seen + 1, seen + 3))  # (start, maybe more)
    assert app.state.link_keeper.changes.waiting == 0
