"""bench.fixedrate against a real local HTTP server: open loop, failures counted, queueing seen."""

import math
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bench import fixedrate

SERVICE_S = 0.1  # what /slow takes, one request at a time


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # (keep-alive, as the search API)
    one_at_a_time = threading.Lock()

    def do_GET(self) -> None:
        if self.path == "/slow":
            with self.one_at_a_time:
                time.sleep(SERVICE_S)
        body = b"{}"
        self.send_response(500 if self.path == "/bad" else 200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def port() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def test_every_request_is_sent_and_timed(port: int) -> None:
    r = fixedrate.run("127.0.0.1", port, ["/ok"], rate=40, seconds=1)
    assert len(r.latencies) == 40
    assert r.errors == 0
    assert 0 < r.percentile(99) < 1
    assert r.seconds >= 0.97  # (the last is due 0.975 s after the first)


def test_failures_count_as_infinitely_slow(port: int) -> None:
    r = fixedrate.run("127.0.0.1", port, ["/ok", "/bad"], rate=20, seconds=1)
    assert r.errors == 10
    assert r.percentile(50) < 1
    assert r.percentile(51) == math.inf


def test_requests_queue_behind_a_slow_server_and_are_timed_from_when_due(port: int) -> None:
    """Due every 50 ms, served one at a time in 100 ms: the 20th waits about a second.

    A closed loop (each request after the answer before) would see 100 ms each.
    """
    r = fixedrate.run("127.0.0.1", port, ["/slow"], rate=20, seconds=1, timeout=10)
    assert r.errors == 0
    assert r.latencies[0] >= SERVICE_S
    assert r.latencies[-1] >= 20 * SERVICE_S - 1.0 - 0.05
