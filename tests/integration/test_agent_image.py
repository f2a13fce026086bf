"""The weft/agent image, run as documented: host network, Docker socket, token file.

Run without Docker's containers folder mounted, so the links go through the
`docker exec` fallback (the in-process tests cover the HostsPath route).
"""

import asyncio
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import docker
import httpx
import pytest

from controlplane.contract import labels as L
from controlplane.contract.schemas import ContainerSpec, LinkTarget, PortSpec
from controlplane.server.agentclient import AgentClient
from tests.eventually import eventually
from tests.harness import unique

pytestmark = pytest.mark.integration
TOKEN = "wefttest-image-token"
TEST = {L.TEST: "1"}


@pytest.fixture(scope="module")
def agent_image(docker_client: docker.DockerClient, base_python_image: str) -> str:
    from controlplane.build.images import build_all

    (tag,) = build_all(only=["agent"], client=docker_client)
    return tag


@pytest.fixture(scope="module")
def agent_url(
    docker_client: docker.DockerClient, agent_image: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    token = tmp_path_factory.mktemp("agent-image") / "token"
    token.write_text(TOKEN)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    container = docker_client.containers.run(
        agent_image,
        name=unique(),
        detach=True,
        network_mode="host",
        labels=TEST,
        environment={"WEFT_AGENT_LISTEN": f"127.0.0.1:{port}"},
        volumes={
            "/var/run/docker.sock": {"bind": "/var/run/docker.sock", "mode": "rw"},
            str(token): {"bind": "/etc/weft/agent.token", "mode": "ro"},
        },
    )
    url = f"http://127.0.0.1:{port}"

    def answers() -> bool:
        container.reload()
        if container.status not in ("created", "running"):  # died: not retried
            raise RuntimeError(container.logs().decode())
        return httpx.get(f"{url}/healthz", timeout=1).status_code == 200

    try:
        eventually(answers, timeout=30, every=0.1)
        yield url
    finally:
        container.remove(force=True)


def _exec(name: str, *cmd: str) -> str:
    out = subprocess.run(["docker", "exec", name, *cmd], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return out.stdout


async def test_agent_container_serves_and_links_by_exec(
    agent_url: str, base_python_image: str, docker_client: docker.DockerClient
) -> None:
    a, b = unique(), unique()
    spec = ContainerSpec(image=base_python_image, command=["sleep", "infinity"], init=True,
                         labels=TEST, exposed_ports=[PortSpec(port=3306)])  # fmt: skip
    async with AgentClient(agent_url, TOKEN, timeout=120) as agent:
        info = await agent.info()
        assert info.docker_api_version == docker_client.version()["ApiVersion"]
        b_ip = (await agent.ensure_container(b, spec)).container.networks["bridge"].ip_address
        link = LinkTarget(alias="MYDB", name=b, address=b_ip, ports=[PortSpec(port=3306)])
        await agent.ensure_container(a, spec.model_copy(update={"links": [link]}))
        assert f"{b_ip}\tMYDB" in await asyncio.to_thread(_exec, a, "cat", "/etc/hosts")
        moved = link.model_copy(update={"address": "172.17.250.250"})
        state = await agent.set_links(a, [moved])
        assert state.applied
        hosts = await asyncio.to_thread(_exec, a, "cat", "/etc/hosts")
        assert "172.17.250.250\tMYDB" in hosts and f"{b_ip}\tMYDB" not in hosts
        env = await asyncio.to_thread(_exec, a, "cat", "/etc/weft/links.env")
        assert "MYDB_PORT_3306_TCP_ADDR=172.17.250.250" in env
        for name in (a, b):
            await agent.delete_container(name)
    assert not docker_client.containers.list(all=True, filters={"name": a})


def test_image_runs_as_documented(agent_image: str) -> None:
    dockerfile = Path(__file__).resolve().parents[2] / "images" / "agent" / "Dockerfile"
    text = dockerfile.read_text()
    assert "--net=host" in text and "/var/run/docker.sock" in text
    assert text.splitlines()[0].startswith("#") and "ARG BASE_IMAGE=" in text
