"""Retries that back off, with a real agent on the real dockerd.

A resource that keeps failing is retried less and less often (exponential, with
jitter, capped), a repeated identical failure is one event with a count, and the
host's passes stay at the reconcile interval. The figures are printed (`-s`) so a
run shows the events and passes per minute.
"""

import re
import socket
import time
from collections.abc import Iterator
from typing import Any

import docker
import pytest

from tests.integration.cp_procs import IDLE, Stack, free_port, running_stack, wait_until

pytestmark = pytest.mark.integration

# How long the failing resource is watched. Backoff from 0.5 s doubling reaches 16 s
# within it, so about 6 attempts are expected, against 60 with a fixed 0.5 s retry.
WINDOW = 30.0
MISSING_IMAGE = "wefttest-missing/none:0"


@pytest.fixture(scope="module")
def stack(docker_client: docker.DockerClient, tmp_path_factory: Any) -> Iterator[Stack]:
    """Agent and control plane reconciling at the default 5 s interval."""
    env = {"WEFT_RECONCILE_INTERVAL": "5", "WEFT_BACKOFF_MAX": "15"}
    with running_stack(docker_client, tmp_path_factory.mktemp("cp"), env) as s:
        yield s


def _metric(stack: Stack, name: str) -> float:
    """The host's value of a per-host metric (-1: not there)."""
    text = stack.api.get("/metrics").text
    m = re.search(rf'{name}{{host_id="{stack.host_id}"}} (\S+)', text)
    return float(m.group(1)) if m else -1.0


def _passes(stack: Stack) -> float:
    return _metric(stack, "weft_server_reconcile_passes_total")


def _failures(stack: Stack, cid: int) -> list[dict[str, Any]]:
    q = f"/events?resource=container&resource_id={cid}&result=failed&limit=1000"
    return list(stack.call("GET", q, 200))


def _watch(stack: Stack, cid: int) -> tuple[int, int, float]:
    """Failure events, failed attempts and passes over WINDOW seconds."""
    events0, passes0 = _failures(stack, cid), _passes(stack)
    attempts0 = sum(e.get("count", 1) for e in events0)
    time.sleep(WINDOW)  # a measurement window, not a wait for something to happen
    events1, passes1 = _failures(stack, cid), _passes(stack)
    attempts1 = sum(e.get("count", 1) for e in events1)
    return len(events1) - len(events0), attempts1 - attempts0, passes1 - passes0


def _per_minute(n: float) -> float:
    return round(n * 60 / WINDOW, 1)


def test_a_container_whose_image_is_missing_backs_off(stack: Stack) -> None:
    body = {"name": f"{stack.prefix}-noimage", "host_id": stack.host_id, "image": MISSING_IMAGE}
    row = stack.call("POST", "/containers?wait=true", 201, json=body)
    assert row["status"] == "failed" and MISSING_IMAGE in row["status_reason"], row
    events, attempts, passes = _watch(stack, row["id"])
    print(
        f"\nmissing image over {WINDOW:.0f} s: {events} failure events, {attempts} attempts,"
        f" {passes:.0f} passes; per minute: {_per_minute(events)} events,"
        f" {_per_minute(attempts)} attempts, {_per_minute(passes)} passes"
    )
    # Backoff 0.5, 1, 2, 4, 8, 16 s (jittered): at most about 7 attempts in the window.
    assert 1 <= attempts <= 8
    assert events <= 1  # the same failure again is counted, not appended
    # Passes at the 5 s interval plus one per retry due, never every 0.5 s.
    assert passes <= WINDOW / 5 + attempts + 2
    now = stack.call("GET", f"/containers/{row['id']}", 200)
    assert now["status"] == "failed" and now["failures"] >= attempts
    stack.call("DELETE", f"/containers/{row['id']}?wait=true", 204)


def test_a_published_port_taken_outside_weft_backs_off(
    stack: Stack, base_python_image: str
) -> None:
    port = free_port()
    with socket.socket() as squatter:  # something outside weft holds the port
        squatter.bind(("127.0.0.1", port))
        squatter.listen()
        body = {
            "name": f"{stack.prefix}-squat",
            "host_id": stack.host_id,
            "image": base_python_image,
            "command": ["sleep", "1000000"],
            "ports": [{"container_port": 80, "host_ip": "127.0.0.1", "host_port": port}],
        }
        started = time.monotonic()
        row = stack.call("POST", "/containers?wait=true", 201, json=body)
        took = time.monotonic() - started
        assert row["status"] == "failed" and str(port) in row["status_reason"], row
        assert took < 10, f"?wait=true answered after {took:.1f} s"
        events, attempts, passes = _watch(stack, row["id"])
    print(
        f"\nport taken over {WINDOW:.0f} s: {events} failure events, {attempts} attempts,"
        f" {passes:.0f} passes; per minute: {_per_minute(events)} events,"
        f" {_per_minute(attempts)} attempts, {_per_minute(passes)} passes"
    )
    assert 1 <= attempts <= 8 and events <= 1
    assert passes <= WINDOW / 5 + attempts + 2
    stack.call("DELETE", f"/containers/{row['id']}?wait=true", 204)


def test_a_slow_delete_does_not_hold_up_the_rest_of_the_host(
    stack: Stack, docker_client: docker.DockerClient, base_python_image: str
) -> None:
    # `sleep` as PID 1 ignores SIGTERM: the stop waits the whole 45 s before SIGKILL.
    name = f"{stack.prefix}-slow"
    slow = {
        "name": name,
        "host_id": stack.host_id,
        "image": base_python_image,
        "command": ["sleep", "1000000"],
        "stop_timeout_s": 45,
    }
    row = stack.call("POST", "/containers?wait=true", 201, json=slow)
    assert row["status"] == "converged", row
    stopping = time.monotonic()
    stack.call("DELETE", f"/containers/{row['id']}", 204)
    # The delete is under way on the agent (its container stops) ...
    wait_until(
        lambda: (
            docker_client.containers.get(name).attrs["State"].get("Running")
            and _metric(stack, "weft_server_reconcile_in_flight") == 1
        ),
        20,
    )
    # ... while an unrelated container on the same host converges at once.
    started = time.monotonic()
    other = {
        "name": f"{stack.prefix}-quick",
        "host_id": stack.host_id,
        "image": base_python_image,
        "command": IDLE,
    }
    quick = stack.call("POST", "/containers?wait=true", 201, json=other)
    took = time.monotonic() - started
    print(f"\nPOST ?wait=true beside a 45 s stop: converged in {took:.1f} s")
    assert quick["status"] == "converged", quick
    assert took < 10
    # The slow delete still completes, and is recorded, after its 45 s.
    wait_until(lambda: not _exists(docker_client, name), 90)
    assert time.monotonic() - stopping >= 40
    q = "/events?resource=container&action=remove&result=ok&limit=1000"
    wait_until(lambda: any(e["resource_name"] == name for e in stack.call("GET", q)), 30)
    assert stack.call("GET", f"/hosts/{stack.host_id}", 200)["status"] == "ready"
    stack.call("DELETE", f"/containers/{quick['id']}?wait=true", 204)


def _exists(client: docker.DockerClient, name: str) -> bool:
    try:
        client.containers.get(name)
    except docker.errors.NotFound:
        return False
    return True
