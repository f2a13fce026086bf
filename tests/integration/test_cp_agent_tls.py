"""The control plane driving an agent over mutual TLS (certificates made with openssl)."""

import ssl
import subprocess
from pathlib import Path

import docker
import httpx
import pytest

from tests.harness import unique
from tests.integration.cp_procs import IDLE, Stack, agent_proc, remove_prefixed, server_proc

pytestmark = pytest.mark.integration


def _openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True)


def _pki(d: Path) -> None:
    """A CA, a server certificate for 127.0.0.1 and a client certificate, all P-256."""
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    _openssl("req", "-x509", *ec, "-keyout", str(d / "ca.key"), "-out", str(d / "ca.pem"),
             "-days", "1", "-subj", "/CN=wefttest-ca")  # fmt: skip
    for name, ext in (("server", "subjectAltName=IP:127.0.0.1"),
                      ("client", "extendedKeyUsage=clientAuth")):  # fmt: skip
        (d / f"{name}.ext").write_text(ext + "\n")
        _openssl("req", *ec, "-keyout", str(d / f"{name}.key"), "-out", str(d / f"{name}.csr"),
                 "-subj", f"/CN=wefttest-{name}")  # fmt: skip
        _openssl("x509", "-req", "-in", str(d / f"{name}.csr"), "-CA", str(d / "ca.pem"),
                 "-CAkey", str(d / "ca.key"), "-CAcreateserial", "-days", "1",
                 "-out", str(d / f"{name}.pem"), "-extfile", str(d / f"{name}.ext"))  # fmt: skip


def test_control_plane_uses_mutual_tls_to_the_agent(
    tmp_path: Path, docker_client: docker.DockerClient, base_python_image: str
) -> None:
    _pki(tmp_path)
    tls = ["--tls-cert", str(tmp_path / "server.pem"), "--tls-key", str(tmp_path / "server.key"),
           "--tls-ca", str(tmp_path / "ca.pem")]  # fmt: skip
    agent = agent_proc(tmp_path, tls)
    with_cert = ssl.create_default_context(cafile=str(tmp_path / "ca.pem"))
    with_cert.load_cert_chain(tmp_path / "client.pem", tmp_path / "client.key")
    agent.verify = with_cert  # mutual TLS covers /healthz too
    client_tls = {"WEFT_AGENTS_CA": str(tmp_path / "ca.pem"),
                  "WEFT_AGENTS_CERT": str(tmp_path / "client.pem"),
                  "WEFT_AGENTS_KEY": str(tmp_path / "client.key")}  # fmt: skip
    prefix = unique("wefttestcp")
    stack = Stack(tmp_path, agent.start(), server_proc(tmp_path, client_tls), prefix)
    try:
        stack.server.start()
        assert stack.agent_url.startswith("https://")
        # Without a client certificate the agent does not even answer /v1/info.
        with pytest.raises(httpx.HTTPError):
            no_cert = ssl.create_default_context(cafile=str(tmp_path / "ca.pem"))
            httpx.get(f"{stack.agent_url}/v1/info", verify=no_cert, timeout=5)
        stack.register()
        row = stack.call("POST", "/containers?wait=true", 201, json={
            "name": f"{prefix}-tls", "host_id": stack.host_id, "image": base_python_image,
            "command": IDLE})  # fmt: skip
        assert row["status"] == "converged", row
        assert docker_client.containers.get(f"{prefix}-tls").id == row["observed"]["docker_id"]
    finally:
        stack.close()
        remove_prefixed(docker_client, prefix)
