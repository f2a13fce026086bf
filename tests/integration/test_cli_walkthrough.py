"""`weft` commands against a real `weft server` and `weft agent` on the real dockerd.

hosts add → networks create → containers run (a published port that answers) →
links create (the alias in /etc/hosts) → containers update moves the DB to a new
address and the link follows (/etc/hosts, MYDB_PORT_3306_TCP_ADDR) → events (listed,
and followed live over SSE by a `weft events ls --follow` subprocess) → rm everything.
Everything made is named with a `wefttestcli` prefix and labelled weft.test=1 where
the API takes labels; the module fixture removes leftovers by prefix.
"""

import json
import os
import random
import select
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker
import httpx
import pytest
from typer.testing import CliRunner

from controlplane.cli.main import app
from tests.harness import unique
from tests.integration.cp_procs import (
    IDLE,
    Proc,
    agent_proc,
    free_port,
    remove_prefixed,
    server_proc,
    wait_until,
)

pytestmark = pytest.mark.integration


@dataclass
class Cli:
    """The control plane and agent processes, and `weft` pointed at them."""

    tmp: Path
    prefix: str
    server: Proc
    agent: Proc

    @property
    def url(self) -> str:
        """The control plane's base URL."""
        return self.server.health_url.removesuffix("/healthz")

    @property
    def env(self) -> dict[str, str]:
        """WEFT_URL and WEFT_TOKEN_FILE: how a user on the server's machine points weft."""
        return {"WEFT_URL": self.url, "WEFT_TOKEN_FILE": str(self.tmp / "state" / "admin.token")}

    def run(self, *args: str, code: int = 0) -> Any:
        """`weft ARGS` in-process; asserts the exit code; the result."""
        result = CliRunner().invoke(app, list(args), env={**self.env, "WEFT_TOKEN": None})
        assert result.exit_code == code, f"weft {' '.join(args)}: {result.output}"
        return result

    def json(self, *args: str) -> Any:
        """`weft GROUP COMMAND --json ARGS`, parsed (--json before any IMAGE CMD...)."""
        return json.loads(self.run(*args[:2], "--json", *args[2:]).stdout)


@pytest.fixture(scope="module")
def cli(
    docker_client: docker.DockerClient, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Cli]:
    """A control plane and an agent for the module; what they made is removed after."""
    prefix = unique("wefttestcli")
    tmp: Path = tmp_path_factory.mktemp("cli")
    agent = agent_proc(tmp).start()
    server = server_proc(tmp)
    try:
        server.start()
        yield Cli(tmp, prefix, server, agent)
    finally:
        server.stop()
        agent.stop()
        remove_prefixed(docker_client, prefix)


def _subnet() -> str:
    return f"10.{random.randint(150, 199)}.{random.randint(0, 255)}.0/24"


def _follow(cli: Cli, *args: str) -> subprocess.Popen[str]:
    """`weft events ls --follow --json ARGS` as a subprocess (stopped by its pid)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WEFT_")}
    return subprocess.Popen(
        [sys.executable, "-m", "controlplane.cli", "events", "ls", "--follow", "--json", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**env, **cli.env},
    )


def _read_until(proc: subprocess.Popen[str], wanted: Any, timeout: float = 60) -> list[Any]:
    """Events the follower printed, up to the first one wanted() accepts."""
    assert proc.stdout is not None
    seen: list[Any] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stdout], [], [], deadline - time.monotonic())
        if not ready:
            break
        line = proc.stdout.readline()
        if not line:
            break
        seen.append(json.loads(line))
        if wanted(seen[-1]):
            return seen
    raise AssertionError(f"the follower never printed the event; it printed {seen}")


def test_unreachable_control_plane_exits_3(cli: Cli) -> None:
    result = cli.run("--url", f"http://127.0.0.1:{free_port()}", "hosts", "ls", code=3)
    assert "cannot reach the control plane" in result.stderr


def test_walk_through_hosts_networks_containers_links_events(
    cli: Cli, docker_client: docker.DockerClient, base_python_image: str
) -> None:
    p = cli.prefix
    agent_url = cli.agent.health_url.removesuffix("/healthz")
    token_file = str(cli.tmp / "agent.token")

    # A wrong agent token is refused, naming the field; nothing is stored.
    bad = cli.run("hosts", "add", agent_url, "--agent-token", "wrong", "--name", f"{p}-h", code=1)
    assert "422" in bad.stderr and "at body.agent_token" in bad.stderr
    host = cli.json(
        "hosts",
        "add",
        agent_url,
        "--agent-token-file",
        token_file,
        "--name",
        f"{p}-h",
        "--label",
        "weft.test=1",
    )
    assert host["status"] == "ready" and host["docker_version"].startswith("20.10")
    assert [h["name"] for h in cli.json("hosts", "ls")] == [f"{p}-h"]
    assert f"{p}-h" in cli.run("hosts", "ls").stdout

    subnet = _subnet()
    net = cli.json(
        "networks",
        "create",
        f"{p}-net",
        "--host",
        f"{p}-h",
        "--subnet",
        subnet,
        "--label",
        "weft.test=1",
        "--wait",
    )
    assert net["status"] == "converged", net
    ipam = docker_client.networks.get(f"{p}-net").attrs["IPAM"]["Config"][0]
    assert ipam["Subnet"] == subnet
    clash = cli.run(
        "networks", "create", f"{p}-net2", "--host", f"{p}-h", "--subnet", subnet, code=1
    )
    assert "409" in clash.stderr

    port = free_port()
    web = cli.json(
        "containers", "run", "--host", f"{p}-h", "--name", f"{p}-web",
        "--network", f"{p}-net:www", "-p", f"127.0.0.1:{port}:80", "-l", "weft.test=1",
        "--stop-timeout", "1", "--wait",
        base_python_image, "python3", "-m", "http.server", "80",
    )  # fmt: skip
    assert web["status"] == "converged", web
    assert web["observed"]["state"] == "running"
    assert docker_client.containers.get(f"{p}-web").attrs["Config"]["Labels"]["weft.test"] == "1"
    r = wait_until(lambda: httpx.get(f"http://127.0.0.1:{port}/", timeout=2))
    assert r.status_code == 200  # the published port answers
    taken = cli.run(
        "containers",
        "run",
        "--host",
        f"{p}-h",
        "--name",
        f"{p}-clash",
        "-p",
        f"{port}:81",
        base_python_image,
        code=1,
    )
    assert "409" in taken.stderr and "at body.ports.0" in taken.stderr

    db = cli.json(
        "containers",
        "run",
        "--host",
        f"{p}-h",
        "--name",
        f"{p}-db",
        "--network",
        f"{p}-net",
        "--expose",
        "3306",
        "-l",
        "weft.test=1",
        "--wait",
        base_python_image,
        *IDLE,
    )
    assert db["status"] == "converged", db
    link = cli.json("links", "create", f"{p}-web", f"{p}-db", "MYDB", "--wait")
    db_addr = db["observed"]["addresses"][f"{p}-net"]
    assert link["address"] == db_addr
    assert link["env"]["MYDB_PORT_3306_TCP_ADDR"] == db_addr
    hosts = docker_client.containers.get(f"{p}-web").exec_run(["cat", "/etc/hosts"]).output
    assert any(
        line.split()[:1] == [db_addr] and "MYDB" in line.split()
        for line in hosts.decode().splitlines()
    )
    assert "MYDB" in cli.run("links", "ls", "--container", f"{p}-web").stdout

    table = cli.run("containers", "ls", "--host", f"{p}-h").stdout
    assert f"{p}-web" in table and f"127.0.0.1:{port}->80/tcp" in table
    assert "GET / HTTP" in cli.run("containers", "logs", f"{p}-web").stdout

    # An update recreates the DB at a new (fixed) address; the link follows it, untouched.
    before = docker_client.containers.get(f"{p}-db").id
    moved = subnet.replace(".0/24", ".77")
    updated = cli.json("containers", "update", f"{p}-db", "-e", "WEFTTEST=2",
                       "--network", f"{p}-net", "--ip", moved, "--wait")  # fmt: skip
    assert updated["status"] == "converged" and updated["env"] == {"WEFTTEST": "2"}
    after = docker_client.containers.get(f"{p}-db")
    assert after.id != before and "WEFTTEST=2" in after.attrs["Config"]["Env"]
    assert updated["observed"]["addresses"][f"{p}-net"] == moved != db_addr

    def followed() -> bool:
        web = docker_client.containers.get(f"{p}-web")
        hosts = web.exec_run(["cat", "/etc/hosts"]).output.decode()
        env = web.exec_run(["cat", "/etc/weft/links.env"]).output.decode()
        return (
            f"{moved}\tMYDB" in hosts
            and f"MYDB_PORT_3306_TCP_ADDR={moved}" in env.splitlines()
            and cli.json("links", "ls")[0]["address"] == moved
        )

    assert wait_until(followed, 30)
    # --wait on something that cannot converge is an error, with the reason.
    missing = cli.run(
        "containers",
        "run",
        "--host",
        f"{p}-h",
        "--name",
        f"{p}-missing",
        "-l",
        "weft.test=1",
        "--link",
        f"{p}-db:MYDB",
        "--wait",
        "wefttest/no-such-image:1",
        code=1,
    )
    assert f"{p}-missing did not converge: failed" in missing.stderr
    # `--link` was recorded with the container (its links go with it on rm).
    inline = cli.json("links", "ls", "--container", f"{p}-missing")
    assert [(k["alias"], k["to"], k["address"]) for k in inline] == [("MYDB", db["id"], moved)]
    cli.run("containers", "rm", f"{p}-missing", "--wait")

    # A follower sees the restart of the DB as it happens (Server-Sent Events).
    follower = _follow(cli, "--resource", "container", "--limit", "1")
    try:
        # Its first line is the newest container event, listed; then it streams from there
        # (events in between are replayed by the stream's `after`).
        _read_until(follower, lambda e: True)
        cli.run("containers", "restart", f"{p}-db", "--wait")
        got = _read_until(
            follower,
            lambda e: (
                e["resource_name"] == f"{p}-db"
                and e["action"] in ("recreate", "restart")
                and e["result"] == "ok"
            ),
        )
        assert all(e["resource"] == "container" for e in got)
    finally:
        follower.send_signal(signal.SIGTERM)
        follower.wait(10)

    events = cli.json("events", "ls", "--limit", "1000")
    did = {(e["resource"], e.get("resource_name"), e["action"], e["result"]) for e in events}
    assert ("host", f"{p}-h", "register", "ok") in did
    assert ("network", f"{p}-net", "create", "ok") in did
    assert ("container", f"{p}-web", "create", "ok") in did
    assert ("container", f"{p}-web", "links", "ok") in did
    assert f"{p}-web" in cli.run("events", "ls", "--resource", "container").stdout

    # Removal: the host refuses while containers exist; then everything goes.
    assert "409" in cli.run("hosts", "rm", f"{p}-h", code=1).stderr
    cli.run("links", "rm", str(link["id"]))
    assert cli.json("links", "ls") == []
    for name in (f"{p}-web", f"{p}-db"):
        cli.run("containers", "rm", name, "--wait")
        with pytest.raises(docker.errors.NotFound):
            docker_client.containers.get(name)
    cli.run("networks", "rm", f"{p}-net", "--wait")
    with pytest.raises(docker.errors.NotFound):
        docker_client.networks.get(f"{p}-net")
    cli.run("hosts", "rm", f"{p}-h")
    assert cli.json("hosts", "ls") == []
