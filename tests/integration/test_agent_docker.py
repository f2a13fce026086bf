"""The agent against the real dockerd, in process (httpx.ASGITransport, lifespan run).

Checks with `docker inspect` / `docker exec` that what the agent says exists really
exists. Everything created carries `weft.test=1`.
"""

import asyncio
import random
import socket
import subprocess
from collections.abc import Callable
from typing import Any

import docker
import httpx
import pytest

from controlplane.contract import labels as L
from controlplane.contract.schemas import (
    ContainerSpec,
    LinkTarget,
    NetworkAttachment,
    NetworkSpec,
    PortSpec,
    PublishedPort,
)
from controlplane.server.agentclient import AgentClient, AgentConflict
from tests.eventually import eventually_async
from tests.harness import unique
from tests.integration import agent_app

pytestmark = pytest.mark.integration
agent = agent_app.agent  # the fixture
TEST = {L.TEST: "1"}
SLEEP = ["sleep", "infinity"]
# Addresses of the container's interfaces, without iproute2 in the image.
_ADDRS = (
    "import socket, fcntl, struct; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); "
    "print([socket.inet_ntoa(fcntl.ioctl(s.fileno(), 0x8915, struct.pack('256s', n.encode()))"
    "[20:24]) for _, n in socket.if_nameindex() if n != 'lo'])"
)


def _spec(image: str, **kw: Any) -> ContainerSpec:
    kw.setdefault("command", SLEEP)
    kw.setdefault("init", True)  # PID 1 forwards SIGTERM: stops take no 10 s
    return ContainerSpec(image=image, labels={**TEST, **kw.pop("labels", {})}, **kw)


def _subnet() -> str:
    return f"10.{random.randint(200, 250)}.{random.randint(0, 255)}.0/24"


def _exec(name: str, *cmd: str) -> str:
    out = subprocess.run(["docker", "exec", name, *cmd], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return out.stdout


async def _until(check: Callable[[], bool], timeout: float = 20.0) -> None:
    """Poll a blocking check (docker exec...) in a thread until it holds."""

    async def holds() -> bool:
        return await asyncio.to_thread(check)

    await eventually_async(holds, timeout, every=0.1)


async def test_network_ensure_is_idempotent(
    agent: AgentClient, docker_client: docker.DockerClient, base_python_image: str
) -> None:
    name, cname = unique(), unique()
    spec = NetworkSpec(subnet=_subnet(), bridge_name=name[:15], mtu=1400, labels=TEST)
    first = await agent.ensure_network(name, spec)
    second = await agent.ensure_network(name, spec)
    assert (first.action, second.action) == ("created", "unchanged")
    assert first.network.id == second.network.id
    net = docker_client.api.inspect_network(name)
    assert net["IPAM"]["Config"][0]["Subnet"] == spec.subnet
    assert net["Options"]["com.docker.network.bridge.name"] == name[:15]
    assert net["Labels"][L.MANAGED] == "true" and net["Labels"][L.OWNER] == "wefttest"

    # Different and unused: recreated. Different and in use: 409, left alone.
    moved = spec.model_copy(update={"subnet": _subnet()})
    recreated = await agent.ensure_network(name, moved)
    assert recreated.action == "recreated" and recreated.network.id != first.network.id
    await agent.ensure_container(
        cname, _spec(base_python_image, networks=[NetworkAttachment(name=name)])
    )
    with pytest.raises(AgentConflict):
        await agent.ensure_network(name, spec)
    with pytest.raises(AgentConflict):
        await agent.delete_network(name)
    assert (await agent.get_network(name)).id == recreated.network.id  # type: ignore[union-attr]
    await agent.delete_container(cname)
    await agent.delete_network(name)
    await agent.delete_network(name)
    assert await agent.get_network(name) is None
    assert not docker_client.api.networks(names=[name])


async def test_container_ensure_same_id_then_recreate(
    agent: AgentClient, docker_client: docker.DockerClient, base_python_image: str
) -> None:
    name = unique()
    spec = _spec(base_python_image, env={"A": "1"}, labels={L.STACK: "s1"})
    first = await agent.ensure_container(name, spec)
    second = await agent.ensure_container(name, spec)
    assert (first.action, second.action) == ("created", "unchanged")
    assert first.container.id == second.container.id
    assert first.container.status == "running"
    labels = docker_client.api.inspect_container(name)["Config"]["Labels"]
    assert labels[L.SPEC_HASH] == spec.computed_hash() == first.container.spec_hash
    assert labels[L.MANAGED] == "true" and labels[L.STACK] == "s1"

    docker_client.api.stop(name, timeout=1)
    stopped = await agent.get_container(name)
    assert stopped is not None and stopped.status == "exited" and stopped.exit_code is not None
    started = await agent.ensure_container(name, spec)
    assert started.action == "started" and started.container.id == first.container.id

    changed = await agent.ensure_container(name, _spec(base_python_image, env={"A": "2"}))
    assert changed.action == "recreated" and changed.container.id != first.container.id
    assert "A=2" in docker_client.api.inspect_container(name)["Config"]["Env"]
    listed = await agent.list_containers(TEST)
    assert name in [c.name for c in listed]
    assert name not in [c.name for c in await agent.list_containers({L.STACK: "s1"})]

    await agent.delete_container(name)
    await agent.delete_container(name)
    assert await agent.get_container(name) is None


async def test_network_modes_are_applied(
    agent: AgentClient, docker_client: docker.DockerClient, base_python_image: str
) -> None:
    base = unique()
    modes = {"bridge": "bridge", "host": "host", "none": "none", f"container:{base}-bridge": None}
    for mode in modes:
        name = f"{base}-{mode.partition(':')[0]}"
        result = await agent.ensure_container(name, _spec(base_python_image, network_mode=mode))
        assert result.container.running, mode
    inspected = {
        mode: docker_client.api.inspect_container(f"{base}-{mode.partition(':')[0]}")
        for mode in modes
    }
    x_id = inspected["bridge"]["Id"]
    for mode, data in inspected.items():
        # The engine records container:X by X's id.
        expected = f"container:{x_id}" if mode.startswith("container:") else mode
        assert data["HostConfig"]["NetworkMode"] == expected
    assert inspected["bridge"]["NetworkSettings"]["Networks"]["bridge"]["IPAddress"]
    assert inspected["none"]["NetworkSettings"]["Networks"].keys() == {"none"}
    # container:X shares X's network namespace: X's address is seen inside.
    x_ip = inspected["bridge"]["NetworkSettings"]["Networks"]["bridge"]["IPAddress"]
    assert x_ip in _exec(f"{base}-container", "python3", "-c", _ADDRS)
    assert "eth0" not in _exec(f"{base}-none", "cat", "/proc/net/dev")
    # Recreating X strands A in a dead namespace: an unchanged ensure of A recreates it.
    x_spec = _spec(base_python_image, env={"NEW": "1"})
    assert (await agent.ensure_container(f"{base}-bridge", x_spec)).action == "recreated"
    a_spec = _spec(base_python_image, network_mode=f"container:{base}-bridge")
    assert (await agent.ensure_container(f"{base}-container", a_spec)).action == "recreated"
    assert (await agent.ensure_container(f"{base}-container", a_spec)).action == "unchanged"
    assert "eth0" not in _exec(f"{base}-none", "cat", "/proc/net/dev")
    for mode in ["container:", "bridge", "host", "none"]:
        await agent.delete_container(f"{base}-{mode.partition(':')[0]}")


async def test_published_port_answers(agent: AgentClient, base_python_image: str) -> None:
    name = unique()
    spec = _spec(
        base_python_image,
        command=["python3", "-m", "http.server", "8000", "--directory", "/etc"],
        published_ports=[PublishedPort(container_port=8000, host_ip="127.0.0.1")],
    )
    state = (await agent.ensure_container(name, spec)).container
    (binding,) = state.ports
    assert binding.host_ip == "127.0.0.1" and binding.host_port > 0
    url = f"http://127.0.0.1:{binding.host_port}/hostname"

    def answers() -> bool:
        try:
            return httpx.get(url, timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    await _until(answers)
    page = await asyncio.to_thread(httpx.get, url)
    assert page.text.strip() == state.id[:12]
    await agent.delete_container(name)


async def test_links_follow_the_target_without_restarting(
    agent: AgentClient, docker_client: docker.DockerClient, base_python_image: str
) -> None:
    net, a, b = unique(), unique(), unique()
    subnet = _subnet()
    prefix = subnet.rsplit(".", 1)[0]
    await agent.ensure_network(net, NetworkSpec(subnet=subnet, labels=TEST))

    def db(ip: str) -> ContainerSpec:
        return _spec(
            base_python_image,
            exposed_ports=[PortSpec(port=3306)],
            networks=[NetworkAttachment(name=net, ipv4_address=ip)],
        )

    def link(ip: str | None) -> list[LinkTarget]:
        return [LinkTarget(alias="MYDB", name=b, address=ip, ports=[PortSpec(port=3306)])]

    old, new = f"{prefix}.10", f"{prefix}.20"
    await agent.ensure_container(b, db(old))
    web = _spec(base_python_image, networks=[NetworkAttachment(name=net)], links=link(old))
    created = (await agent.ensure_container(a, web)).container
    assert f"{old}\tMYDB" in _exec(a, "cat", "/etc/hosts")
    assert f"MYDB_PORT_3306_TCP_ADDR={old}" in _exec(a, "cat", "/etc/weft/links.env")
    assert _exec(a, "getent", "hosts", "MYDB").split()[0] == old
    # The process env is Docker-compatible too, from creation time.
    assert f"MYDB_PORT_3306_TCP_ADDR={old}" in _exec(a, "env")

    started_at = docker_client.api.inspect_container(a)["State"]["StartedAt"]
    # B comes back with a new address; the control plane repeats the links call.
    assert (await agent.ensure_container(b, db(new))).action == "recreated"
    state = await agent.set_links(a, link(new))
    assert state.applied and state.env["MYDB_PORT"] == f"tcp://{new}:3306"
    hosts = _exec(a, "cat", "/etc/hosts")
    assert f"{new}\tMYDB" in hosts and old not in hosts
    assert f"{created.networks[net].ip_address}\t" in hosts  # Docker's own entry kept
    assert _exec(a, "getent", "hosts", "MYDB").split()[0] == new
    login_env = _exec(a, "sh", "-lc", "echo $MYDB_PORT_3306_TCP_ADDR $MYDB_PORT")
    assert login_env.split() == [new, f"tcp://{new}:3306"]
    wrapped = _exec(a, "/etc/weft/with-links", "sh", "-c", "echo $MYDB_PORT_3306_TCP_ADDR")
    assert wrapped.strip() == new
    after = docker_client.api.inspect_container(a)
    assert after["Id"] == created.id and after["State"]["StartedAt"] == started_at
    now = await agent.get_container(a)
    assert now is not None and now.started_at == created.started_at and now.restart_count == 0
    assert (await agent.get_links(a)).links == link(new)

    # Docker rebuilds /etc/hosts on every start; the agent's link keeper restores it.
    docker_client.api.restart(a, timeout=1)
    await _until(lambda: f"{new}\tMYDB" in _exec(a, "cat", "/etc/hosts"))
    # An unchanged ensure with the same links keeps A and its links.
    again = await agent.ensure_container(a, web.model_copy(update={"links": link(new)}))
    assert again.action == "unchanged" and again.container.id == created.id

    # Circular: B links back to A (no address yet is fine, then A's address).
    await agent.set_links(b, [LinkTarget(alias="web", name=a, address=None)])
    assert "\tweb" not in _exec(b, "cat", "/etc/hosts")
    a_ip = created.networks[net].ip_address
    await agent.set_links(b, [LinkTarget(alias="web", name=a, address=a_ip)])
    assert f"{a_ip}\tweb" in _exec(b, "cat", "/etc/hosts")
    for name in (a, b):
        await agent.delete_container(name)
    await agent.delete_network(net)


async def test_missing_image_and_foreign_names_are_conflicts(
    agent: AgentClient, docker_client: docker.DockerClient, base_python_image: str
) -> None:
    kept = unique()
    first = await agent.ensure_container(kept, _spec(base_python_image))
    with pytest.raises(AgentConflict) as missing:
        await agent.ensure_container(kept, _spec("wefttest-no-such-image:0"))
    assert missing.value.problem.type == "urn:weft:problem:image-missing"
    assert missing.value.problem.errors[0].loc == ["body", "image"]
    # The old container is kept when its replacement cannot be created.
    assert docker_client.api.inspect_container(kept)["Id"] == first.container.id
    await agent.delete_container(kept)

    # A host port someone else holds is a conflict too.
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        published = [PublishedPort(container_port=80, host_ip="127.0.0.1", host_port=port)]
        taken = unique()
        with pytest.raises(AgentConflict) as busy:
            await agent.ensure_container(taken, _spec(base_python_image, published_ports=published))
        assert "already" in (busy.value.problem.detail or "")
        await agent.delete_container(taken)

    foreign = unique()
    docker_client.api.create_container(base_python_image, SLEEP, name=foreign, labels=TEST)
    with pytest.raises(AgentConflict):
        await agent.ensure_container(foreign, _spec(base_python_image))
    with pytest.raises(AgentConflict):
        await agent.delete_container(foreign)
    assert docker_client.api.inspect_container(foreign)["Name"] == f"/{foreign}"
    docker_client.api.remove_container(foreign, force=True)


async def test_logs_and_health(agent: AgentClient, base_python_image: str) -> None:
    name = unique()
    script = "echo out-line; echo err-line >&2; exec sleep infinity"
    health = {"test": ["CMD", "true"], "interval_s": 0.2, "timeout_s": 2, "retries": 1}
    spec = _spec(base_python_image, command=["sh", "-c", script], healthcheck=health)
    await agent.ensure_container(name, spec)

    async def healthy() -> bool:
        state = await agent.get_container(name)
        return state is not None and state.status == "healthy"

    await eventually_async(healthy, timeout=30, every=0.1)
    text = await agent.container_logs(name, tail=10)
    assert "out-line" in text and "err-line" in text
    assert await agent.container_logs(name, tail=0) == ""
    await agent.delete_container(name)


async def test_links_of_a_container_started_later(
    agent: AgentClient, docker_client: docker.DockerClient, base_python_image: str
) -> None:
    """Links given to a created-only container land in its hosts file when it starts."""
    name = unique()
    links = [LinkTarget(alias="peer", name="other", address="10.9.9.9")]
    spec = _spec(base_python_image, running=False, links=links)
    created = await agent.ensure_container(name, spec)
    assert created.container.status == "created"
    assert (await agent.get_links(name)).links == links
    docker_client.api.start(name)  # started behind weft's back: the link keeper acts
    await _until(lambda: "10.9.9.9\tpeer" in _exec(name, "cat", "/etc/hosts"))
    assert _exec(name, "sh", "-lc", "echo $PEER_NAME").strip() == f"/{name}/peer"
    await agent.delete_container(name)


async def test_container_options_are_applied(
    agent: AgentClient, docker_client: docker.DockerClient, base_python_image: str
) -> None:
    name, volume = unique(), unique()
    spec = _spec(
        base_python_image,
        hostname="wefthost",
        working_dir="/tmp",
        user="nobody",
        dns=["127.0.0.1"],
        dns_search=["weave.local"],
        extra_hosts=["static.example:10.1.2.3"],
        restart_policy={"name": "on-failure", "maximum_retry_count": 3},
        mounts=[{"type": "volume", "source": volume, "target": "/data"}],
        stop_timeout_s=2,
    )
    await agent.ensure_container(name, spec)
    data = docker_client.api.inspect_container(name)
    host, config = data["HostConfig"], data["Config"]
    assert (config["Hostname"], config["WorkingDir"], config["User"]) == (
        "wefthost",
        "/tmp",
        "nobody",
    )
    assert host["Dns"] == ["127.0.0.1"] and host["DnsSearch"] == ["weave.local"]
    assert host["ExtraHosts"] == ["static.example:10.1.2.3"]
    assert host["RestartPolicy"] == {"Name": "on-failure", "MaximumRetryCount": 3}
    assert config["StopTimeout"] == 2 and host["Init"] is True
    assert "search weave.local" in _exec(name, "cat", "/etc/resolv.conf")
    assert _exec(name, "id", "-un").strip() == "nobody"
    vol = docker_client.api.inspect_volume(volume)
    assert vol["Labels"][L.MANAGED] == "true" and vol["Labels"][L.TEST] == "1"
    await agent.delete_container(name)
    docker_client.api.remove_volume(volume)
