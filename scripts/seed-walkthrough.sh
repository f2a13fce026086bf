#!/usr/bin/env bash
# The seed's single-host walk-through through weft's API, self-contained: starts a
# `weft agent` and a `weft server` on free 127.0.0.1 ports in a temporary state dir,
# runs scripts/seed_walkthrough.py against them (extra arguments are passed on, e.g.
# --prefix or --host-port), then stops both (by pid) and removes the temp dir.
# Needs the weft/base-python:bookworm image (`weft images build`).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
WORK=$(mktemp -d /tmp/weft-seed.XXXXXX)
AGENT_PID=""
SERVER_PID=""

cleanup() {
  for pid in $SERVER_PID $AGENT_PID; do
    kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  done
  rm -rf "$WORK"
}
trap cleanup EXIT

free_port() {
  "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

wait_healthy() {
  "$PY" - "$1" <<'PYEOF'
import sys, time, httpx
for _ in range(150):
    try:
        if httpx.get(sys.argv[1], timeout=1).status_code == 200:
            sys.exit(0)
    except httpx.HTTPError:
        pass
    time.sleep(0.2)
sys.exit(f"{sys.argv[1]} did not answer")
PYEOF
}

AGENT_PORT=$(free_port)
API_PORT=$(free_port)
WEB_PORT=${WEB_PORT:-$(free_port)}
"$PY" -c 'import secrets; print(secrets.token_urlsafe(32))' >"$WORK/agent.token"
chmod 600 "$WORK/agent.token"

"$PY" -m controlplane.cli agent --listen "127.0.0.1:$AGENT_PORT" \
  --token-file "$WORK/agent.token" >"$WORK/agent.log" 2>&1 &
AGENT_PID=$!
WEFT_RECONCILE_INTERVAL=1 "$PY" -m controlplane.cli server --listen "127.0.0.1:$API_PORT" \
  --state-dir "$WORK/state" >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
wait_healthy "http://127.0.0.1:$AGENT_PORT/healthz"
wait_healthy "http://127.0.0.1:$API_PORT/healthz"
echo "agent pid $AGENT_PID on :$AGENT_PORT, control plane pid $SERVER_PID on :$API_PORT"

"$PY" scripts/seed_walkthrough.py --api "http://127.0.0.1:$API_PORT" \
  --token-file "$WORK/state/admin.token" \
  --agent-url "http://127.0.0.1:$AGENT_PORT" --agent-token-file "$WORK/agent.token" \
  --host-port "$WEB_PORT" --cleanup "$@"
