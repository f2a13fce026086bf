"""The agent image's health check: GET /healthz over HTTP, or a TCP connect under TLS.

Under mutual TLS the probe holds no client certificate, so it only checks that
the port accepts connections.
"""

import os
import socket
import sys
import urllib.request

host, _, port = os.environ.get("WEFT_AGENT_LISTEN", "127.0.0.1:7946").rpartition(":")
host = "127.0.0.1" if host in ("", "0.0.0.0", "[::]", "::") else host.strip("[]")
try:
    if os.environ.get("WEFT_AGENT_TLS_CERT"):
        socket.create_connection((host, int(port)), timeout=3).close()
    else:
        with urllib.request.urlopen(f"http://{host}:{port}/healthz", timeout=3) as r:
            sys.exit(0 if r.status == 200 else 1)
except OSError as exc:
    print(f"unhealthy: {exc}", file=sys.stderr)
    sys.exit(1)
