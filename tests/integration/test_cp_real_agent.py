"""The control plane with a real agent (subprocess) on the real dockerd.

What the API says exists really exists (`docker inspect`), published ports answer,
links show up in /etc/hosts and the environment inside the container and follow
the target to a new address. Auth is rejected without or with a wrong token.
"""

import random
import subprocess
from collections.abc import Iterator
from typing import Any

import docker
import httpx
import pytest

from controlplane.contract import labels as L
from tests.integration.cp_procs import (
    AGENT_TOKEN,
    IDLE,
    Stack,
    free_port,
    running_stack,
    wait_until,
)

pytestmark = pytest.mark.integration

# A web server that stops on SIGTERM and has a health endpoint.
HTTP = (
    "import http.server, signal, sys; signal.signal(signal.SIGTERM, lambda *_: sys.exit(0)); "
    "http.server.ThreadingHTTPServer(('', 80), http.server.SimpleHTTPRequestHandler)"
    ".serve_forever()"
)


@pytest.fixture(scope="module")
def stack(
    docker_client: docker.DockerClient, base_python_image: str, tmp_path_factory
) -> Iterator[Stack]:
    """One agent + control plane for the module; everything made is removed after."""
    with running_stack(docker_client, tmp_path_factory.mktemp("cp")) as s:
        yield s


def _subnet() -> str:
    return f"10.{random.randint(150, 199)}.{random.randint(0, 255)}.0/24"


def _exec(name: str, *cmd: str) -> str:
    out = subprocess.run(["docker", "exec", name, *cmd], capture_output=True, text=True)
    return out.stdout


def test_unauthenticated_and_wrong_token_calls_are_rejected(stack: Stack) -> None:
    for headers in ({}, {"Authorization": "Bearer wrong"}):
        r = httpx.get(f"{stack.url}/containers", headers=headers)
        assert r.status_code == 401 and r.headers["content-type"] == "application/problem+json"
        r = httpx.get(f"{stack.agent_url}/v1/info", headers=headers)
        assert r.status_code == 401
    ok = httpx.get(f"{stack.agent_url}/v1/info", headers={"Authorization": f"Bearer {AGENT_TOKEN}"})
    assert ok.status_code == 200
    # The same agent under another name (one URL is registered once: 409).
    other_url = stack.agent_url.replace("127.0.0.1", "localhost")
    r = stack.api.post(
        "/hosts",
        json={"name": f"{stack.prefix}-x", "agent_url": other_url, "agent_token": "not-the-token"},
    )
    assert r.status_code == 422 and r.json()["errors"][0]["loc"] == ["body", "agent_token"]
    host = stack.call("GET", f"/hosts/{stack.host_id}", 200)
    assert host["status"] == "ready" and host["docker_version"].startswith("20.10")


def test_what_the_api_says_exists_really_exists(
    stack: Stack, docker_client: docker.DockerClient, base_python_image: str
) -> None:
    p, subnet = stack.prefix, _subnet()
    net = stack.call(
        "POST",
        "/networks?wait=true",
        201,
        json={"name": f"{p}-net", "host_id": stack.host_id, "subnet": subnet},
    )
    assert net["status"] == "converged"
    ipam = docker_client.networks.get(f"{p}-net").attrs["IPAM"]["Config"][0]
    assert (ipam["Subnet"], ipam["Gateway"]) == (subnet, net["gateway"])
    port = free_port()
    fixed = subnet.replace(".0/24", ".77")
    web = stack.call(
        "POST",
        "/containers?wait=true",
        201,
        json={
            "name": f"{p}-web",
            "host_id": stack.host_id,
            "image": base_python_image,
            "command": ["python3", "-c", HTTP],
            "env": {"GREETING": "hi"},
            "ports": [{"container_port": 80, "host_ip": "127.0.0.1", "host_port": port}],
            "networks": [{"network": f"{p}-net", "aliases": ["www"], "ipv4_address": fixed}],
            "restart_policy": {"name": "unless-stopped"},
            "dns": ["10.0.0.53"],
            "dns_search": ["weave.local"],
            "healthcheck": {
                "test": [
                    "CMD",
                    "python3",
                    "-c",
                    "import urllib.request as u; u.urlopen('http://127.0.0.1/')",
                ],
                "interval_s": 0.5,
                "timeout_s": 2,
                "retries": 3,
            },
        },
    )
    assert web["status"] == "converged", web
    c = docker_client.containers.get(f"{p}-web")
    assert c.id == web["observed"]["docker_id"]
    attrs = c.attrs
    assert attrs["NetworkSettings"]["Networks"][f"{p}-net"]["IPAddress"] == fixed
    assert "www" in attrs["NetworkSettings"]["Networks"][f"{p}-net"]["Aliases"]
    assert "GREETING=hi" in attrs["Config"]["Env"]
    assert attrs["HostConfig"]["Dns"] == ["10.0.0.53"]
    assert attrs["HostConfig"]["DnsSearch"] == ["weave.local"]
    assert attrs["HostConfig"]["RestartPolicy"]["Name"] == "unless-stopped"
    assert attrs["Config"]["Labels"][L.OWNER] == stack.owner()
    assert attrs["Config"]["Labels"][L.CONTAINER_ID] == str(web["id"])
    r = wait_until(lambda: httpx.get(f"http://127.0.0.1:{port}/", timeout=2))
    assert r.status_code == 200  # the published port answers
    healthy = wait_until(
        lambda: stack.call("GET", f"/containers/{web['id']}")["observed"]["state"] == "healthy", 30
    )
    assert healthy
    # A second container asking for the same host port is refused before anything runs.
    r = stack.api.post(
        "/containers",
        json={
            "name": f"{p}-clash",
            "host_id": stack.host_id,
            "image": base_python_image,
            "ports": [{"container_port": 81, "host_port": port}],
        },
    )
    assert r.status_code == 409
    # The seed's other network modes.
    for mode in ("none", "host", f"container:{p}-web"):
        suffix = mode.split(":")[0]
        row = stack.call(
            "POST",
            "/containers?wait=true",
            201,
            json={
                "name": f"{p}-{suffix}",
                "host_id": stack.host_id,
                "image": base_python_image,
                "command": IDLE,
                "network_mode": mode,
            },
        )
        assert row["status"] == "converged", row
        got = docker_client.containers.get(f"{p}-{suffix}").attrs["HostConfig"]["NetworkMode"]
        assert got == mode or (mode.startswith("container:") and got == f"container:{c.id}")
    # An exited container reports its exit code.
    done = stack.call(
        "POST",
        "/containers?wait=true",
        201,
        json={
            "name": f"{p}-exit",
            "host_id": stack.host_id,
            "image": base_python_image,
            "command": ["python3", "-c", "raise SystemExit(3)"],
        },
    )
    exited = wait_until(
        lambda: stack.call("GET", f"/containers/{done['id']}")["observed"].get("exit_code") == 3, 30
    )
    assert exited
    # Deleting through the API removes it from the host.
    for name in ("container", "exit", "none", "host"):
        row = next(x for x in stack.call("GET", "/containers") if x["name"] == f"{p}-{name}")
        stack.call("DELETE", f"/containers/{row['id']}?wait=true", 204)
        with pytest.raises(docker.errors.NotFound):
            docker_client.containers.get(f"{p}-{name}")


def test_link_hosts_entry_and_env_follow_a_new_address(
    stack: Stack, docker_client: docker.DockerClient, base_python_image: str
) -> None:
    p, subnet = stack.prefix, _subnet()
    stack.call(
        "POST",
        "/networks",
        201,
        json={"name": f"{p}-lnet", "host_id": stack.host_id, "subnet": subnet},
    )
    base = {
        "host_id": stack.host_id,
        "image": base_python_image,
        "command": IDLE,
        "networks": [{"network": f"{p}-lnet"}],
    }
    web = stack.call("POST", "/containers?wait=true", 201, json={**base, "name": f"{p}-lweb"})
    # The target does not exist yet when the link is made.
    db = stack.call(
        "POST", "/containers", 201, json={**base, "name": f"{p}-ldb", "exposed_ports": ["3306/tcp"]}
    )
    link = stack.call(
        "POST", "/links?wait=true", 201, json={"from": web["id"], "to": db["id"], "alias": "MYDB"}
    )
    addr = wait_until(lambda: stack.call("GET", f"/links/{link['id']}")["address"])
    hosts = wait_until(lambda: f"{addr}\tMYDB" in _exec(f"{p}-lweb", "cat", "/etc/hosts"))
    assert hosts
    env = _exec(f"{p}-lweb", "sh", "-lc", "env")
    assert f"MYDB_PORT_3306_TCP_ADDR={addr}" in env
    assert f"MYDB_PORT=tcp://{addr}:3306" in env
    web_id = docker_client.containers.get(f"{p}-lweb").id
    moved = subnet.replace(".0/24", ".199")
    row = stack.call(
        "PATCH",
        f"/containers/{db['id']}?wait=true",
        200,
        json={"networks": [{"network": f"{p}-lnet", "ipv4_address": moved}]},
    )
    assert row["observed"]["addresses"][f"{p}-lnet"] == moved
    assert wait_until(lambda: f"{moved}\tMYDB" in _exec(f"{p}-lweb", "cat", "/etc/hosts"))
    assert wait_until(
        lambda: f"MYDB_PORT_3306_TCP_ADDR={moved}" in _exec(f"{p}-lweb", "sh", "-lc", "env")
    )
    assert f"{addr}\tMYDB" not in _exec(f"{p}-lweb", "cat", "/etc/hosts")
    assert docker_client.containers.get(f"{p}-lweb").id == web_id  # not recreated
    assert stack.call("GET", f"/links/{link['id']}")["address"] == moved
    # A restart of `from` is in place (same container) and keeps its links.
    started = docker_client.containers.get(f"{p}-lweb").attrs["State"]["StartedAt"]
    row = stack.call("POST", f"/containers/{web['id']}/restart?wait=true", 202)
    assert row["status"] == "converged" and row["observed"]["docker_id"] == web_id
    assert docker_client.containers.get(f"{p}-lweb").attrs["State"]["StartedAt"] != started
    assert wait_until(lambda: f"{moved}\tMYDB" in _exec(f"{p}-lweb", "cat", "/etc/hosts"))


def test_links_to_container_mode_and_host_mode_targets(
    stack: Stack, docker_client: docker.DockerClient, base_python_image: str
) -> None:
    p, subnet = stack.prefix, _subnet()
    net = stack.call(
        "POST",
        "/networks",
        201,
        json={"name": f"{p}-mnet", "host_id": stack.host_id, "subnet": subnet},
    )
    gateway, port = net["gateway"], free_port()
    base = {"host_id": stack.host_id, "image": base_python_image}

    def run(name: str, **spec: Any) -> Any:
        return stack.call("POST", "/containers?wait=true", 201, json={**base, "name": name, **spec})

    owner = run(f"{p}-mx", command=IDLE, networks=[{"network": f"{p}-mnet"}])
    # Shares mx's network stack: no address of its own, reached at mx's.
    side = run(
        f"{p}-mside",
        network_mode=f"container:{p}-mx",
        command=["python3", "-m", "http.server", "9000"],
    )
    # On the host's stack, listening on the test network's gateway only.
    api = run(
        f"{p}-mapi",
        network_mode="host",
        exposed_ports=[f"{port}/tcp"],
        command=["python3", "-m", "http.server", str(port), "--bind", gateway],
    )
    web = run(
        f"{p}-mweb",
        command=IDLE,
        networks=[{"network": f"{p}-mnet"}],
        links=[{"to": side["id"], "alias": "SIDE"}, {"to": api["id"], "alias": "API"}],
    )
    assert side["observed"]["addresses"] == {} and api["observed"]["addresses"] == {}
    mx_addr = owner["observed"]["addresses"][f"{p}-mnet"]
    links = {k["alias"]: k for k in stack.call("GET", "/links", params={"container_id": web["id"]})}
    assert (links["SIDE"]["address"], links["API"]["address"]) == (mx_addr, gateway)
    assert links["API"]["env"][f"API_PORT_{port}_TCP_ADDR"] == gateway
    hosts = _exec(f"{p}-mweb", "cat", "/etc/hosts")
    assert f"{mx_addr}\tSIDE" in hosts and f"{gateway}\tAPI" in hosts
    # Given with the container: in its process environment from the start.
    env = docker_client.containers.get(f"{p}-mweb").attrs["Config"]["Env"]
    assert f"API_PORT_{port}_TCP=tcp://{gateway}:{port}" in env
    fetch = "import sys, urllib.request as u; print(u.urlopen(sys.argv[1], timeout=2).status)"

    def answers(url: str) -> bool:
        return _exec(f"{p}-mweb", "python3", "-c", fetch, url).strip() == "200"

    assert wait_until(lambda: answers("http://SIDE:9000/"), 30)  # through the alias to mside
    assert wait_until(lambda: answers(f"http://API:{port}/"), 30)  # to the host-mode server
    # mx moves: the link to the container sharing its stack follows it.
    moved = subnet.replace(".0/24", ".188")
    stack.call(
        "PATCH",
        f"/containers/{owner['id']}?wait=true",
        200,
        json={"networks": [{"network": f"{p}-mnet", "ipv4_address": moved}]},
    )
    assert wait_until(lambda: f"{moved}\tSIDE" in _exec(f"{p}-mweb", "cat", "/etc/hosts"), 30)
    # mside is recreated into mx's new stack (the engine pinned it to the old mx).
    assert wait_until(lambda: answers("http://SIDE:9000/"), 30)
    for row in (web, side, api, owner):
        stack.call("DELETE", f"/containers/{row['id']}?wait=true", 204)
    stack.call("DELETE", f"/networks/{net['id']}?wait=true", 204)
