"""The agent refuses what would make its token root on the host, even with a valid token.

Real engine: after each refusal, `docker inspect` shows no container was made.
"""

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import docker
import docker.errors
import httpx
import pytest

from controlplane.agent.app import create_app
from controlplane.agent.settings import AgentSettings
from controlplane.contract import labels as L
from tests.harness import unique

pytestmark = pytest.mark.integration
TOKEN = "wefttest-policy-token"


@pytest.fixture
async def agent(
    docker_client: docker.DockerClient, tmp_path: Path
) -> AsyncIterator[httpx.AsyncClient]:
    """The agent app on the real engine; tmp_path/allowed is the one extra bind root."""
    (tmp_path / "etc").mkdir()
    token_file = tmp_path / "etc" / "agent.token"
    token_file.write_text(TOKEN)
    (tmp_path / "allowed").mkdir()
    settings = AgentSettings(
        token_file=token_file,
        owner="wefttest",
        watch_events=False,
        data_dir=tmp_path / "data",
        bind_allow=[tmp_path / "allowed"],
    )
    app = create_app(settings, engine=docker_client)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        headers = {"Authorization": f"Bearer {TOKEN}"}
        async with httpx.AsyncClient(
            transport=transport, base_url="http://agent", headers=headers, timeout=120
        ) as client:
            yield client


@pytest.fixture
def name(docker_client: docker.DockerClient) -> Any:
    """A container name; whatever got made under it is removed afterwards."""
    made = unique()
    yield made
    with contextlib.suppress(docker.errors.NotFound):
        docker_client.containers.get(made).remove(force=True)


def spec(image: str, **extra: Any) -> dict[str, Any]:
    return {
        "image": image,
        "command": ["sleep", "infinity"],
        "init": True,
        "labels": {L.TEST: "1"},
        **extra,
    }


def absent(client: docker.DockerClient, name: str) -> bool:
    try:
        client.containers.get(name)
    except docker.errors.NotFound:
        return True
    return False


def bind(source: str | Path) -> dict[str, Any]:
    return {"mounts": [{"type": "bind", "source": str(source), "target": "/mnt"}]}


async def test_a_bind_mount_of_root_is_refused_with_a_valid_token(
    agent, name, docker_client, base_python_image, tmp_path
):
    (tmp_path / "allowed" / "escape").symlink_to("/")
    for source in ("/", "/etc", "/var/run/docker.sock", tmp_path / "allowed" / "escape"):
        r = await agent.put(f"/v1/containers/{name}", json=spec(base_python_image, **bind(source)))
        assert r.status_code == 403, (source, r.text)
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["errors"][0]["loc"] == ["body", "mounts", 0, "source"]
        assert absent(docker_client, name), source


async def test_privileged_capabilities_and_host_namespaces_are_not_in_the_wire(
    agent, name, docker_client, base_python_image
):
    for field, value in (
        ("privileged", True),
        ("cap_add", ["SYS_ADMIN"]),
        ("pid_mode", "host"),
        ("userns_mode", "host"),
        ("devices", ["/dev/sda"]),
    ):
        r = await agent.put(
            f"/v1/containers/{name}", json=spec(base_python_image, **{field: value})
        )
        assert r.status_code == 422, (field, r.text)
        assert ["body", field] in [e["loc"] for e in r.json()["errors"]], r.text
        assert absent(docker_client, name), field


async def test_binds_from_allowed_directories_work_but_never_over_the_token(
    agent, name, docker_client, base_python_image, tmp_path
):
    (tmp_path / "allowed" / "greeting").write_text("hello\n")
    r = await agent.put(
        f"/v1/containers/{name}", json=spec(base_python_image, **bind(tmp_path / "allowed"))
    )
    assert r.status_code == 200, r.text
    out = docker_client.containers.get(name).exec_run(["cat", "/mnt/greeting"])
    assert out.output == b"hello\n"
    await agent.delete(f"/v1/containers/{name}")
    # An operator who allows a parent of the token file still cannot expose it.
    (tmp_path / "allowed" / "token").symlink_to(tmp_path / "etc" / "agent.token")
    r = await agent.put(
        f"/v1/containers/{name}",
        json=spec(base_python_image, **bind(tmp_path / "allowed" / "token")),
    )
    assert r.status_code == 403 and "token" in r.json()["detail"], r.text
    assert absent(docker_client, name)
