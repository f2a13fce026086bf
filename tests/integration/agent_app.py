"""An agent app on the real engine, in process (httpx.ASGITransport, lifespan run)."""

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import docker
import httpx
import pytest

from controlplane.agent.app import create_app
from controlplane.agent.settings import AgentSettings
from controlplane.server.agentclient import AgentClient

TOKEN = "wefttest-agent-token"


@pytest.fixture
async def agent(
    docker_client: docker.DockerClient, base_python_image: str, tmp_path: Path
) -> AsyncIterator[AgentClient]:
    """An agent app on the real engine, its lifespan (and link keeper) running."""
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN)
    settings = AgentSettings(token_file=token_file, owner="wefttest")
    app = create_app(settings, engine=docker_client)
    async with app.router.lifespan_context(app):
        await asyncio.to_thread(app.state.link_keeper.ready.wait, 30)
        transport = httpx.ASGITransport(app=app)
        async with AgentClient("http://agent", TOKEN, transport=transport, timeout=120) as c:
            yield c
