"""Stacks deployed by a real control plane through a real agent on the real dockerd.

`weft stack deploy` brings up a database stand-in, waits for its health check,
then a web service that reaches it by service name and by link alias; the
published port answers. A changed service is recreated alone; a failing health
check ends the deploy `failed` with the reason and a non-zero exit; removal
leaves nothing labelled with the stack on the engine.
"""

import subprocess
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docker
import httpx
import pytest
from typer.testing import CliRunner

from controlplane.cli.main import app
from controlplane.contract import labels
from tests.integration.cp_procs import Stack, free_port, running_stack, wait_until

pytestmark = pytest.mark.integration

SERVE = (
    "import http.server, signal, sys; signal.signal(signal.SIGTERM, lambda *_: sys.exit(0)); "
    "http.server.ThreadingHTTPServer(('', {port}), http.server.SimpleHTTPRequestHandler)"
    ".serve_forever()"
)
PROBE = "import urllib.request; urllib.request.urlopen('http://127.0.0.1:{port}/', timeout=2)"


def compose(image: str, name: str, port: int, db_probe_port: int = 7000, tag: str = "a") -> str:
    return textwrap.dedent(
        f"""
        name: {name}
        services:
          db:
            image: {image}
            command: ["python3", "-c", "{SERVE.format(port=7000)}"]
            volumes: ["data:/data"]
            healthcheck:
              test: ["CMD", "python3", "-c", "{PROBE.format(port=db_probe_port)}"]
              interval: 1s
              timeout: 2s
              retries: 2
          web:
            image: {image}
            command: ["python3", "-c", "{SERVE.format(port=80)}"]
            environment: {{TAG: "{tag}"}}
            depends_on: {{db: {{condition: service_healthy}}}}
            links: ["db:database"]
            ports: ["127.0.0.1:{port}:80"]
        volumes:
          data: {{}}
        """
    )


@pytest.fixture(scope="module")
def cp(
    docker_client: docker.DockerClient, base_python_image: str, tmp_path_factory
) -> Iterator[Stack]:
    with running_stack(docker_client, tmp_path_factory.mktemp("stacks")) as stack:
        yield stack


def weft(cp: Stack, *args: str) -> Any:
    env = {"WEFT_URL": cp.url, "WEFT_TOKEN_FILE": str(cp.tmp / "state" / "admin.token")}
    return CliRunner().invoke(app, list(args), env={**env, "WEFT_TOKEN": None})


def on_engine(client: docker.DockerClient, name: str) -> dict[str, Any]:
    """The stack's containers on the engine, by name."""
    found = client.containers.list(all=True, filters={"label": f"{labels.STACK}={name}"})
    return {c.name: c for c in found}


def test_deploy_update_and_remove_on_a_real_engine(
    cp: Stack, docker_client: docker.DockerClient, base_python_image: str, tmp_path: Path
) -> None:
    name, port = cp.prefix, free_port()
    file = tmp_path / "compose.yaml"
    file.write_text(compose(base_python_image, name, port))
    result = weft(cp, "stack", "deploy", "-c", str(file))
    assert result.exit_code == 0, result.output
    assert "done" in result.output and "web" in result.output
    stack = cp.call("GET", f"/stacks/{name}", 200)
    assert stack["status"] == "converged"
    assert {s["name"]: s["running"] for s in stack["services"]} == {"db": 1, "web": 1}

    # The published port answers, and web reaches db by service name and link alias.
    assert httpx.get(f"http://127.0.0.1:{port}/", timeout=5).status_code == 200
    web = f"{name}-web-1"
    for target in ("db", "database"):
        probe = f"import urllib.request; urllib.request.urlopen('http://{target}:7000/', timeout=3)"
        out = subprocess.run(
            ["docker", "exec", web, "python3", "-c", probe], capture_output=True, text=True
        )
        assert out.returncode == 0, (target, out.stderr)
    engine = on_engine(docker_client, name)
    assert set(engine) == {f"{name}-db-1", web}
    assert engine[web].labels[labels.SERVICE] == "web"
    db_id = engine[f"{name}-db-1"].id

    # Changing web alone recreates web alone.
    file.write_text(compose(base_python_image, name, port, tag="b"))
    result = weft(cp, "stack", "deploy", "-c", str(file))
    assert result.exit_code == 0, result.output
    engine = on_engine(docker_client, name)
    assert engine[f"{name}-db-1"].id == db_id
    assert "TAG=b" in engine[web].attrs["Config"]["Env"]

    ps = weft(cp, "stack", "ps", name)
    assert ps.exit_code == 0 and "converged" in ps.output and "1/1" in ps.output

    # Removal keeps the named volume's data for the next deploy, unless --volumes.
    db = f"{name}-db-1"
    write = subprocess.run(["docker", "exec", db, "sh", "-c", "echo kept > /data/marker"])
    assert write.returncode == 0
    assert weft(cp, "stack", "rm", name).exit_code == 0
    wait_until(lambda: not on_engine(docker_client, name), timeout=30)
    volume = f"{name}_data"
    assert docker_client.volumes.get(volume).attrs["Labels"][labels.STACK] == name
    assert weft(cp, "stack", "deploy", "-c", str(file)).exit_code == 0
    read = subprocess.run(["docker", "exec", db, "cat", "/data/marker"], capture_output=True)
    assert read.stdout == b"kept\n"

    assert weft(cp, "stack", "rm", name, "--volumes").exit_code == 0
    assert not on_engine(docker_client, name)
    nets = docker_client.networks.list(filters={"label": f"{labels.STACK}={name}"})
    assert nets == []
    vols = docker_client.volumes.list(filters={"label": f"{labels.STACK}={name}"})
    assert vols == []
    cp.call("GET", f"/stacks/{name}", 404)


def test_failing_health_check_fails_the_deploy_with_the_reason(
    cp: Stack, docker_client: docker.DockerClient, base_python_image: str, tmp_path: Path
) -> None:
    name = f"{cp.prefix}-bad"
    file = tmp_path / "compose.yaml"
    # The probe asks a port nothing listens on: db never turns healthy.
    file.write_text(compose(base_python_image, name, free_port(), db_probe_port=7999))
    result = weft(cp, "stack", "deploy", "-c", str(file))
    assert result.exit_code == 1, result.output
    assert "db: health check failing" in result.output
    stack = cp.call("GET", f"/stacks/{name}", 200)
    assert stack["status"] == "failed"
    # web waited for db's health: it was never created.
    assert set(on_engine(docker_client, name)) == {f"{name}-db-1"}
    cp.call("DELETE", f"/stacks/{name}", 204, params={"wait": True, "volumes": True})
    assert not on_engine(docker_client, name)
