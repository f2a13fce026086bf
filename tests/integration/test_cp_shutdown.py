"""`weft server` stops on SIGTERM even while an event follower holds a stream open."""

import os
import signal
import threading
import time
from pathlib import Path

import httpx

from controlplane.server.app import SHUTDOWN_GRACE
from tests.integration.cp_procs import server_proc


def test_sigterm_ends_the_server_despite_an_open_event_stream(tmp_path: Path) -> None:
    proc = server_proc(tmp_path).start()
    try:
        base = proc.health_url.removesuffix("/healthz")
        token = (tmp_path / "state" / "admin.token").read_text().strip()
        opened = threading.Event()
        ended: list[str] = []

        def follow() -> None:
            headers = {"Authorization": f"Bearer {token}"}
            timeout = httpx.Timeout(None, connect=5)
            try:
                with httpx.stream(
                    "GET", f"{base}/events/stream", headers=headers, timeout=timeout
                ) as resp:
                    opened.set()
                    for _ in resp.iter_lines():
                        pass
                ended.append("closed")
            except httpx.TransportError as exc:
                ended.append(type(exc).__name__)

        follower = threading.Thread(target=follow, daemon=True)
        follower.start()
        assert opened.wait(10), "the stream did not open"
        sent = time.monotonic()
        os.kill(proc.pid, signal.SIGTERM)
        assert proc.popen is not None
        proc.popen.wait(SHUTDOWN_GRACE + 10)  # raises TimeoutExpired if it hangs
        took = time.monotonic() - sent
        print(f"server stopped {took:.1f} s after SIGTERM with a follower connected")
        follower.join(10)
        assert ended, "the follower's stream did not end"
    finally:
        proc.stop()
