"""/docs renders its operations in headless Chromium with no network at all.

The control plane and Chromium run in a network namespace of their own that has
only a loopback interface: a page that needed a CDN would stay blank.
"""

import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.eventually import eventually
from tests.harness import ROOT, unique

pytestmark = pytest.mark.integration
PORT = 8000


@pytest.fixture(scope="module")
def chromium() -> str:
    """Debian's chromium (installed by ensure-system.sh when missing, never skipped)."""
    subprocess.run(["bash", str(ROOT / "scripts" / "ensure-system.sh"), "chromium"], check=True)
    return "chromium"


@pytest.fixture
def netns() -> Iterator[str]:
    """A network namespace with only `lo` (up), removed afterwards."""
    name = unique("wefttest-docs")
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        subprocess.run(["ip", "-n", name, "link", "set", "lo", "up"], check=True)
        yield name
    finally:
        subprocess.run(["ip", "netns", "del", name], check=False)


def inside(netns: str, *argv: str) -> list[str]:
    """argv run in the namespace (nsenter: `ip netns exec` would remount /sys)."""
    return ["nsenter", f"--net=/var/run/netns/{netns}", *argv]


@pytest.fixture
def server(netns: str, tmp_path: Path) -> Iterator[str]:
    """`weft server` inside the namespace; its base URL there."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WEFT_")}
    env.pop("DATABASE_URL", None)
    argv = [sys.executable, "-m", "controlplane.cli", "server"]
    argv += ["--listen", f"127.0.0.1:{PORT}", "--state-dir", str(tmp_path / "state")]
    with (tmp_path / "server.log").open("wb") as log:
        proc = subprocess.Popen(
            inside(netns, *argv),
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{PORT}"
    probe = "import urllib.request as u, sys; u.urlopen(sys.argv[1], timeout=1)"

    def answers() -> bool:
        assert proc.poll() is None, (tmp_path / "server.log").read_text()
        check = inside(netns, sys.executable, "-c", probe, f"{url}/healthz")
        return subprocess.run(check, capture_output=True, timeout=10).returncode == 0

    try:
        eventually(answers, timeout=60, every=0.2)
        yield url
    finally:
        os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(5)


def dump_dom(netns: str, chromium: str, url: str) -> str:
    """The DOM after the page's scripts ran, from headless Chromium in the namespace."""
    with tempfile.TemporaryDirectory(prefix="wefttest-chromium-") as profile:
        argv = [
            chromium, "--headless", "--no-sandbox", "--disable-gpu",
            "--disable-background-networking", "--disable-component-update", "--no-first-run",
            f"--user-data-dir={profile}", "--virtual-time-budget=20000", "--dump-dom", url,
        ]  # fmt: skip
        out = subprocess.run(inside(netns, *argv), capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout


def test_docs_render_the_operations_with_no_network(netns, chromium, server):
    # No route leaves this namespace: a CDN could not be reached even if one were asked.
    routes = subprocess.run(["ip", "-n", netns, "route"], capture_output=True, text=True)
    assert routes.stdout.strip() == ""

    def rendered() -> str:
        dom = dump_dom(netns, chromium, f"{server}/docs")
        return dom if 'class="opblock-summary-path"' in dom else ""

    dom = eventually(rendered, timeout=180, every=1)
    for path in ("/hosts", "/networks", "/containers", "/links", "/events", "/tokens"):
        assert f'data-path="{path}"' in dom, path
    assert "weft control plane" in dom

    def redoc_rendered() -> str:
        dom = dump_dom(netns, chromium, f"{server}/redoc")
        return dom if "operation/" in dom else ""

    assert "operation/list_hosts_hosts_get" in eventually(redoc_rendered, timeout=180, every=1)
