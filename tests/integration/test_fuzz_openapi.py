"""Schemathesis against both OpenAPI descriptions: no 5xx, no answer the schema denies.

A real `weft server` and a real `weft agent` on the real engine; fixed seed and a
bounded number of examples, so a run is repeatable and stays short. Any failure
(a 5xx, an undocumented status or media type, a 405 without `Allow`, invalid data
accepted) fails the test with schemathesis' own report and a curl to replay it.

What is fuzzed with valid data and what only with invalid data, and why:
- Every control-plane operation gets invalid data (negative mode): it must be
  refused (4xx) and so never reaches an agent.
- Valid data goes to every control-plane operation except `POST /hosts`, which
  would make the control plane call whatever agent URL was generated (test
  traffic stays on 127.0.0.0/8). The registered host's agent is stopped first, so
  networks and containers the fuzzer stores are never created on the shared
  engine; what needs the agent answers 503, documented.
- On the agent, invalid data goes to every operation but those in HOST_CHANGES
  (they would create objects with random names and subnets on the engine other
  test sessions share, or change the host's overlay devices, WireGuard and DNS);
  valid data only to GET and HEAD (see AGENT_READS).
  Image upload (a tarball body) cannot be generated at all.
- `/events/stream` and `/stacks/{name}/events` are endless by design.
Checks: schemathesis' all, except positive_data_acceptance (see fuzz/schemathesis.toml).
"""

import subprocess
import sys
from pathlib import Path

import docker
import pytest

from tests.integration.cp_procs import AGENT_TOKEN, running_stack

pytestmark = pytest.mark.integration

CONFIG = Path(__file__).parent / "fuzz" / "schemathesis.toml"
SCHEMATHESIS = str(Path(sys.executable).parent / "schemathesis")
EXAMPLES = "5"
SEED = "1"
STREAMS = ["--exclude-path", "/events/stream", "--exclude-path", "/stacks/{name}/events"]
# A `docker save` tarball cannot be generated from a schema; image loading has its
# own tests (test_agent_image.py).
TARBALL = ["--exclude-operation-id", "load_image_v1_images_put"]
# Verbs that would change the shared host beyond test-named objects (overlay
# devices, WireGuard, DNS records, probes to generated addresses) or create objects
# with random names and subnets on the engine other test sessions share.
HOST_CHANGES = [
    f"--exclude-operation-id={op}"
    for op in (
        "ensure_network_v1_networks__name__put",
        "ensure_container_v1_containers__name__put",
        "ensure_overlay_v1_overlays__name__put",
        "delete_overlay_v1_overlays__name__delete",
        "set_records_v1_dns_put",
        "probe_peers_v1_probe_post",
        "ensure_tunnel_v1_tunnel_put",
        "rotate_key_v1_tunnel_rotate_post",
        "delete_tunnel_v1_tunnel__interface__delete",
        # Reset removes every weft object on the engine, other sessions' too.
        "reset_host_v1_reset_post",
        # A valid name (schemathesis takes them from the agent's own lists) reaches a
        # weft object of whoever shares the engine: one run deleted `make up`'s
        # world-searchapi-1 while the newcomer's stack was up.
        "delete_container_v1_containers__name__delete",
        "restart_container_v1_containers__name__restart_post",
        "set_links_v1_containers__name__links_put",
        "delete_network_v1_networks__name__delete",
        "delete_volume_v1_volumes__name__delete",
        "attach_container_v1_overlays__name__containers__container__put",
        "detach_container_v1_overlays__name__containers__container__delete",
        "expose_host_v1_overlays__name__exposed__address__put",
        "hide_host_v1_overlays__name__exposed__address__delete",
    )
]
# Valid data on the agent only reads: its lists show every weft container on the
# shared engine, and a call sequence built from them (stateful) restarted and
# deleted another test session's containers.
AGENT_READS = [
    "--mode",
    "positive",
    "--phases",
    "examples,coverage,fuzzing",
    "--include-method",
    "GET",
    "--include-method",
    "HEAD",
    # A long poll: it answers after its `timeout` (up to 60 s) when nothing changes,
    # past this run's request timeout, by design (its own tests in test_agent_server).
    "--exclude-path",
    "/v1/changes",
]
CALLS_OUT = ["--exclude-operation-id", "register_host_hosts_post"]
# Invalid data is refused at the first request, so call sequences (stateful) add nothing.
NEGATIVE = ["--mode", "negative", "--phases", "examples,coverage,fuzzing"]


def _fuzz(base_url: str, token: str, *selection: str) -> str:
    """One schemathesis run; returns its report, asserting it found nothing."""
    out = subprocess.run(
        [
            SCHEMATHESIS,
            "--config-file",
            str(CONFIG),
            "run",
            f"{base_url}/openapi.json",
            "-H",
            f"Authorization: Bearer {token}",
            "--max-examples",
            EXAMPLES,
            "--seed",
            SEED,
            "--generation-deterministic",
            "--request-timeout",
            "20",
            "--no-color",
            "--workers",
            "2",
            *selection,
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    report = out.stdout + out.stderr
    summary = [line for line in report.splitlines() if "generated" in line or "Tested:" in line]
    print(base_url, selection, *summary, sep="\n  ")
    assert out.returncode == 0, report
    return report


def test_fuzz_control_plane_and_agent(docker_client: docker.DockerClient, tmp_path: Path) -> None:
    env = {"WEFT_WAIT_TIMEOUT": "2"}  # ?wait=true on a host that never answers
    with running_stack(docker_client, tmp_path, env) as stack:
        _fuzz(stack.agent_url, AGENT_TOKEN, *NEGATIVE, *TARBALL, *HOST_CHANGES)
        _fuzz(stack.agent_url, AGENT_TOKEN, *AGENT_READS)
        stack.agent.stop()
        token = (stack.tmp / "state" / "admin.token").read_text().strip()
        _fuzz(stack.url, token, *NEGATIVE, *STREAMS)
        _fuzz(stack.url, token, "--mode", "positive", *CALLS_OUT, *STREAMS)
