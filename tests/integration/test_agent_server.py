"""`weft agent` as a real process on a real socket: auth, info, image upload."""

import contextlib
import io
import socket
import subprocess
import sys
import tarfile
import time
from collections.abc import Iterator
from pathlib import Path

import docker
import docker.errors
import httpx
import pytest

from controlplane.agentclient import AgentAuthError, AgentClient, AgentError, file_chunks
from tests.harness import ROOT, unique

pytestmark = pytest.mark.integration
TOKEN = "wefttest-server-token"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def agent_url(tmp_path_factory: pytest.TempPathFactory, system: None) -> Iterator[str]:
    """A `weft agent` process on 127.0.0.1:<random port>, stopped by its pid afterwards."""
    workdir = tmp_path_factory.mktemp("agent")
    token_file = workdir / "token"
    token_file.write_text(TOKEN + "\n")
    port = _free_port()
    log = (workdir / "agent.log").open("w")
    cmd = [str(Path(sys.executable).parent / "weft"), "agent", "--listen", f"127.0.0.1:{port}",
           "--token-file", str(token_file)]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(150):
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
            assert proc.poll() is None, (workdir / "agent.log").read_text()
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@pytest.mark.parametrize(
    "headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {TOKEN}"}]
)
def test_rejects_missing_or_wrong_token(agent_url: str, headers: dict[str, str]) -> None:
    for method, path in [("GET", "/v1/info"), ("GET", "/v1/containers"),
                         ("PUT", "/v1/containers/wefttest-x"), ("PUT", "/v1/images")]:  # fmt: skip
        r = httpx.request(method, agent_url + path, headers=headers, json={"image": "x"})
        assert r.status_code == 401, (method, path)
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["status"] == 401 and r.json()["title"] == "Unauthenticated"


def test_no_docker_api_passthrough(agent_url: str) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    for path in ["/containers/json", "/v1.41/containers/json", "/_ping", "/v1/exec"]:
        r = httpx.get(agent_url + path, headers=headers)
        assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"


async def test_info_through_the_socket(agent_url: str) -> None:
    async with AgentClient(agent_url, TOKEN) as agent:
        assert await agent.healthz()
        info = await agent.info()
    assert info.docker_api_version and info.cpus >= 1 and info.memory_bytes > 0
    assert info.agent_version and info.hostname
    async with AgentClient(agent_url, "wrong") as agent:
        with pytest.raises(AgentAuthError):
            await agent.info()


def _tiny_image(client: docker.DockerClient, ref: str) -> None:
    """A one-file image made with `docker import` (no registry, no base needed)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        data = b"weft test image\n"
        info = tarfile.TarInfo("hello.txt")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    repository, tag = ref.split(":")
    client.api.import_image_from_data(buf.getvalue(), repository=repository, tag=tag)


async def test_image_upload_streamed(
    agent_url: str, docker_client: docker.DockerClient, tmp_path: Path
) -> None:
    ref = f"{unique()}:1"
    tarball = tmp_path / "image.tar"
    _tiny_image(docker_client, ref)
    try:
        with tarball.open("wb") as f:
            for chunk in docker_client.api.get_image(ref):
                f.write(chunk)
        docker_client.api.remove_image(ref)
        async with AgentClient(agent_url, TOKEN) as agent:
            assert await agent.image_exists(ref) is False
            loaded = await agent.load_image(file_chunks(str(tarball), chunk_size=4096))
            assert loaded.tags == [ref]
            image = await agent.get_image(ref)
            assert image is not None and ref in image.tags
            assert docker_client.images.get(ref).id == image.id
            # Loading it again is harmless (idempotent).
            assert (await agent.load_image(tarball.read_bytes())).tags == [ref]
            with pytest.raises(AgentError) as bad:
                await agent.load_image(b"not a tarball")
            assert bad.value.status == 422
    finally:
        with contextlib.suppress(docker.errors.NotFound):
            docker_client.api.remove_image(ref, force=True)
