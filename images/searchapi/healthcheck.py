"""Docker HEALTHCHECK: exit 0 when GET /readyz on the local API answers 200."""

import os
import sys
import urllib.request

PORT = os.environ.get("SEARCHAPI_PORT", "8080")

try:
    with urllib.request.urlopen(f"http://127.0.0.1:{PORT}/readyz", timeout=4) as response:
        sys.exit(0 if response.status == 200 else 1)
except Exception:
    sys.exit(1)
