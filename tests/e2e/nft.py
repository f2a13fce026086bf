"""Read a cluster host's nftables table, in the host's own network namespace."""

import json
import subprocess
import sys
from typing import Any

from controlplane.devcluster.layout import HostLayout

_LIST = (
    "import json, sys\n"
    "from controlplane.agent.overlay import nft\n"
    "print(json.dumps(nft.objects(f'list table netdev {sys.argv[1]}')))"
)


def netdev_table(host: HostLayout, name: str) -> list[dict[str, Any]]:
    """The netdev table's objects (JSON), or [] when the host has no such table."""
    done = subprocess.run(
        ["nsenter", f"--net={host.netns_path}", sys.executable, "-c", _LIST, name],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        return []
    return list(json.loads(done.stdout))


def add_netdev_table(host: HostLayout, name: str) -> None:
    """An empty netdev table `name` on the host (a stray, as a crash would leave one)."""
    code = f"from controlplane.agent.overlay import nft; nft.run('add table netdev {name}')"
    subprocess.run(["nsenter", f"--net={host.netns_path}", sys.executable, "-c", code], check=True)
