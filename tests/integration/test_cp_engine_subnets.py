"""Subnets that overlap a network the engine already has, with a real agent on the real dockerd.

At create, a bridge network overlapping docker0 (read from the engine) is a 409
naming `subnet` and the engine's network. When the overlap appears later (a
network made outside weft), the weft network is failed once with the reason, the
repeats are counted on that one event, and it converges once the other is gone.
"""

import random
from collections.abc import Iterator
from typing import Any

import docker
import httpx
import pytest

from tests.integration.cp_procs import AGENT_TOKEN, Stack, running_stack, wait_until

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def stack(docker_client: docker.DockerClient, tmp_path_factory: Any) -> Iterator[Stack]:
    """Agent and control plane; everything made under the prefix is removed after."""
    with running_stack(docker_client, tmp_path_factory.mktemp("cp")) as s:
        yield s


def test_a_subnet_on_docker0_is_refused_up_front(
    stack: Stack, docker_client: docker.DockerClient
) -> None:
    docker0 = docker_client.networks.get("bridge").attrs["IPAM"]["Config"][0]["Subnet"]
    seen = httpx.get(
        f"{stack.agent_url}/v1/engine/networks",
        headers={"Authorization": f"Bearer {AGENT_TOKEN}"},
    )
    assert seen.status_code == 200
    assert {"name": "bridge", "subnets": [docker0], "owner": None} in seen.json()
    for subnet in (docker0, docker0.rsplit(".", 2)[0] + ".99.0/24"):
        body = {"name": f"{stack.prefix}-on0", "host_id": stack.host_id, "subnet": subnet}
        r = stack.api.post("/networks", json=body)
        assert r.status_code == 409, r.text
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["errors"][0]["loc"] == ["body", "subnet"]
        assert "bridge" in r.json()["detail"] and docker0 in r.json()["detail"]
    assert not [n for n in stack.call("GET", "/networks", 200) if n["name"].endswith("-on0")]


def test_an_overlap_made_outside_weft_later_fails_once_and_heals(
    stack: Stack, docker_client: docker.DockerClient
) -> None:
    subnet = f"10.{random.randint(150, 199)}.{random.randint(0, 255)}.0/24"
    name = f"{stack.prefix}-later"
    body = {"name": name, "host_id": stack.host_id, "subnet": subnet}
    net = stack.call("POST", "/networks?wait=true", 201, json=body)
    assert net["status"] == "converged", net
    # Someone removes weft's network by hand and takes its subnet for another.
    docker_client.networks.get(name).remove()
    outside = docker_client.networks.create(
        f"{stack.prefix}-outside",
        ipam=docker.types.IPAMConfig(pool_configs=[docker.types.IPAMPool(subnet=subnet)]),
    )
    q = f"/events?resource=network&resource_id={net['id']}&result=failed"

    def failed_a_few_times() -> Any:
        row = stack.call("GET", f"/networks/{net['id']}", 200)
        return row if row["status"] == "failed" and row["failures"] >= 3 else None

    row = wait_until(failed_a_few_times, 30)
    assert "overlap" in row["status_reason"].lower(), row
    events = stack.call("GET", q, 200)
    assert len(events) == 1 and events[0]["count"] >= 3, events
    # The other network goes: weft's comes back within the backoff.
    outside.remove()
    healed = wait_until(
        lambda: stack.call("GET", f"/networks/{net['id']}", 200)["status"] == "converged", 90
    )
    assert healed
    assert docker_client.networks.get(name).attrs["IPAM"]["Config"][0]["Subnet"] == subnet
    stack.call("DELETE", f"/networks/{net['id']}?wait=true", 204)
