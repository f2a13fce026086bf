"""Docker HEALTHCHECK: exit 0 when GET /readyz on the local API answers 200."""

import sys
import urllib.request

try:
    with urllib.request.urlopen("http://127.0.0.1:8080/readyz", timeout=4) as response:
        sys.exit(0 if response.status == 200 else 1)
except Exception:
    sys.exit(1)
