"""The control plane image's health check: GET /healthz on WEFT_LISTEN."""

import os
import sys
import urllib.request

host, _, port = os.environ.get("WEFT_LISTEN", "127.0.0.1:8000").rpartition(":")
host = "127.0.0.1" if host in ("", "0.0.0.0", "[::]", "::") else host.strip("[]")
try:
    with urllib.request.urlopen(f"http://{host}:{port}/healthz", timeout=3) as r:
        sys.exit(0 if r.status == 200 else 1)
except OSError as exc:
    print(f"unhealthy: {exc}", file=sys.stderr)
    sys.exit(1)
