"""`weft agent` as a real process on a real socket: auth, info, image upload."""

import contextlib
import io
import socket
import ssl
import subprocess
import sys
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docker
import docker.errors
import httpx
import pytest

from controlplane.contract import labels as L
from controlplane.devcluster.cluster import free_port
from controlplane.server.agentclient import (
    AgentAuthError,
    AgentClient,
    AgentError,
    AgentUnavailable,
    file_chunks,
)
from tests.eventually import eventually, eventually_async
from tests.harness import ROOT, unique

pytestmark = pytest.mark.integration
TOKEN = "wefttest-server-token"


@contextlib.contextmanager
def _agent_process(workdir: Path, *args: str) -> Iterator[str]:
    """`weft agent` on 127.0.0.1:<random port>; yields its URL, stops it by pid."""
    token_file = workdir / "token"
    token_file.write_text(TOKEN + "\n")
    port = free_port()
    scheme = "https" if "--tls-cert" in args else "http"
    weft = str(Path(sys.executable).parent / "weft")
    cmd = [weft, "agent", "--listen", f"127.0.0.1:{port}", "--token-file", str(token_file), *args]
    log_path = workdir / "agent.log"
    with log_path.open("w") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)

        def listening() -> bool:
            if proc.poll() is not None:  # died: no point waiting (not retried)
                raise RuntimeError(log_path.read_text())
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return True

        try:
            eventually(listening, timeout=30, every=0.1)
            yield f"{scheme}://127.0.0.1:{port}"
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@pytest.fixture(scope="module")
def agent_url(tmp_path_factory: pytest.TempPathFactory, system: None) -> Iterator[str]:
    """A plain-HTTP agent process."""
    with _agent_process(tmp_path_factory.mktemp("agent")) as url:
        yield url


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
            # Sent back out as `docker save` streams it: loads elsewhere as the same image.
            async with agent.save_image(ref) as chunks:
                saved = b"".join([chunk async for chunk in chunks])
            docker_client.api.remove_image(ref)
            assert (await agent.load_image(saved)).tags == [ref]
            assert docker_client.images.get(ref).id == image.id
            with pytest.raises(AgentError) as missing:
                async with agent.save_image(f"{unique()}:none"):
                    pass
            assert missing.value.status == 404
    finally:
        with contextlib.suppress(docker.errors.NotFound):
            docker_client.api.remove_image(ref, force=True)


def _openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True)


def _issue(d: Path, ca: str, name: str, ext: str) -> None:
    """A P-256 key and a certificate for `name` signed by the CA `ca`."""
    (d / f"{name}.ext").write_text(ext + "\n")
    _openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
             "-keyout", str(d / f"{name}.key"), "-out", str(d / f"{name}.csr"),
             "-subj", f"/CN=wefttest-{name}")  # fmt: skip
    _openssl("x509", "-req", "-in", str(d / f"{name}.csr"), "-CA", str(d / f"{ca}.pem"),
             "-CAkey", str(d / f"{ca}.key"), "-CAcreateserial", "-days", "1",
             "-out", str(d / f"{name}.pem"), "-extfile", str(d / f"{name}.ext"))  # fmt: skip


async def test_mutual_tls(tmp_path: Path, system: None) -> None:
    """With --tls-ca, a client needs a certificate from that CA and the token."""
    for ca in ("ca", "rogue"):
        _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                 "-nodes", "-keyout", str(tmp_path / f"{ca}.key"),
                 "-out", str(tmp_path / f"{ca}.pem"), "-days", "1",
                 "-subj", f"/CN=wefttest-{ca}")  # fmt: skip
    _issue(tmp_path, "ca", "server", "subjectAltName=IP:127.0.0.1")
    _issue(tmp_path, "ca", "client", "extendedKeyUsage=clientAuth")
    _issue(tmp_path, "rogue", "stranger", "extendedKeyUsage=clientAuth")

    def context(cert: str | None) -> ssl.SSLContext:
        ctx = ssl.create_default_context(cafile=str(tmp_path / "ca.pem"))
        if cert:
            ctx.load_cert_chain(tmp_path / f"{cert}.pem", tmp_path / f"{cert}.key")
        return ctx

    tls = ["--tls-cert", str(tmp_path / "server.pem"), "--tls-key", str(tmp_path / "server.key"),
           "--tls-ca", str(tmp_path / "ca.pem")]  # fmt: skip
    with _agent_process(tmp_path, *tls) as url:
        async with AgentClient(url, TOKEN, ssl_context=context("client")) as agent:
            assert (await agent.info()).docker_api_version
        async with AgentClient(url, "wrong", ssl_context=context("client")) as agent:
            with pytest.raises(AgentAuthError):
                await agent.info()
        for cert in (None, "stranger"):
            async with AgentClient(url, TOKEN, ssl_context=context(cert), retries=0) as agent:
                with pytest.raises(AgentUnavailable):
                    await agent.info()


def test_weft_agent_bind_allow_option(
    tmp_path: Path, docker_client: docker.DockerClient, base_python_image: str
) -> None:
    allowed = tmp_path / "allowed"
    allowed.mkdir()
    (allowed / "greeting").write_text("hi\n")
    name = unique()
    headers = {"Authorization": f"Bearer {TOKEN}"}
    spec: dict[str, Any] = {"image": base_python_image, "command": ["sleep", "infinity"],
                            "init": True, "labels": {L.TEST: "1"}}  # fmt: skip

    def bind(source: Path) -> dict[str, Any]:
        return {**spec, "mounts": [{"type": "bind", "source": str(source), "target": "/mnt"}]}

    with _agent_process(tmp_path, "--bind-allow", str(allowed)) as url:
        try:
            r = httpx.put(f"{url}/v1/containers/{name}", headers=headers, json=bind(Path("/")))
            assert r.status_code == 403, r.text
            r = httpx.put(
                f"{url}/v1/containers/{name}", headers=headers, json=bind(allowed), timeout=120
            )
            assert r.status_code == 200, r.text
            out = docker_client.containers.get(name).exec_run(["cat", "/mnt/greeting"])
            assert out.output == b"hi\n"
        finally:
            with contextlib.suppress(docker.errors.NotFound):
                docker_client.containers.get(name).remove(force=True)


async def test_the_change_feed_answers_when_a_weft_container_starts_and_goes(
    agent_url: str, base_python_image: str
) -> None:
    import asyncio
    import time

    from controlplane.contract.schemas import ContainerSpec
    from tests.integration.cp_procs import IDLE

    name = unique("wefttest-feed")
    async with AgentClient(agent_url, TOKEN) as agent:
        first = await agent.wait_changes(0, 0)
        idle = await agent.wait_changes(first.seq, 0.5)  # nothing happens: the timeout answers
        assert (idle.boot, idle.seq) == (first.boot, first.seq)
        waiting = asyncio.create_task(agent.wait_changes(first.seq, 30))
        await agent.ensure_container(name, ContainerSpec(image=base_python_image, command=IDLE))
        started = time.monotonic()
        try:
            moved = await waiting
            assert moved.seq > first.seq and moved.boot == first.boot
            assert time.monotonic() - started < 2
        finally:
            await agent.delete_container(name)
        gone = await agent.wait_changes(moved.seq, 30)
        assert gone.seq > moved.seq  # die and destroy
        assert time.monotonic() - started < 15


async def test_the_change_feed_answers_when_a_health_check_turns_healthy(
    agent_url: str, docker_client: docker.DockerClient, base_python_image: str
) -> None:
    import asyncio

    from controlplane.contract.schemas import ContainerSpec, HealthCheck
    from tests.integration.cp_procs import IDLE

    name = unique("wefttest-health")
    # Healthy only once the file exists: the start and the health change are two events.
    check = HealthCheck(test=["CMD", "test", "-e", "/tmp/ok"], interval_s=0.5, retries=1)
    spec = ContainerSpec(image=base_python_image, command=IDLE, healthcheck=check)
    async with AgentClient(agent_url, TOKEN) as agent:
        await agent.ensure_container(name, spec)
        try:
            await eventually_async(lambda: _health(agent, name, "unhealthy"))  # failed once
            before = await agent.wait_changes(0, 0)
            waiting = asyncio.create_task(agent.wait_changes(before.seq, 30))
            docker_client.containers.get(name).exec_run(["touch", "/tmp/ok"])
            moved = await waiting
            assert moved.seq > before.seq
            assert await _health(agent, name, "healthy")
        finally:
            await agent.delete_container(name)


async def _health(agent: AgentClient, name: str, want: str) -> bool:
    state = await agent.get_container(name)
    return state is not None and state.health == want
