"""The seed's single-host walk-through, run as a user would: scripts/seed-walkthrough.sh."""

import subprocess
import sys

import docker
import pytest

from tests.harness import ROOT, unique
from tests.integration.cp_procs import remove_prefixed

pytestmark = pytest.mark.e2e


def test_seed_walkthrough_script(docker_client: docker.DockerClient, base_python_image: str):
    prefix = unique("wefttestseed")
    try:
        out = subprocess.run(
            [
                "bash",
                str(ROOT / "scripts" / "seed-walkthrough.sh"),
                "--prefix",
                prefix,
                "--subnet",
                "10.234.9.0/24",
            ],
            capture_output=True,
            text=True,
            timeout=300,
            env={"PATH": "/usr/bin:/bin", "PY": sys.executable},
        )
        print(out.stdout[-6000:], out.stderr[-3000:])
        assert out.returncode == 0, out.stderr
        text = out.stdout
        assert "10.234.9.2\tMYDB" in text  # web's /etc/hosts, before
        assert "MYDB_PORT_3306_TCP_ADDR=10.234.9.2" in text
        assert "10.234.9.200\tMYDB" in text  # after the DB moved
        assert "MYDB_PORT_3306_TCP_ADDR=10.234.9.200" in text
        assert "MYDB here, at 10.234.9.200" in text  # web reached the DB by its alias
        assert "MYWEB kept its container: True" in text
        # The process environment stays as at creation (Docker's staleness), the files follow.
        assert text.count("MYDB_PORT_3306_TCP_ADDR=10.234.9.2;") == 2
        assert text.rstrip().endswith("RESULT: ok")
        # --cleanup removed everything through the API.
        left = [
            c.name for c in docker_client.containers.list(all=True) if c.name.startswith(prefix)
        ]
        assert left == []
    finally:
        remove_prefixed(docker_client, prefix)
