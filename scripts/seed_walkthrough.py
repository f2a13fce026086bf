#!/usr/bin/env python3
"""The seed's single-host walk-through, through weft's API only.

    MYDB  (a small TCP server on 3306 standing in for MySQL)
    MYWEB (a small web app on port 80, published on 127.0.0.1:<host-port>)
    link MYWEB -> MYDB as MYDB

It shows MYWEB's /etc/hosts and MYDB_PORT_3306_TCP_ADDR (served by the web app
itself, as the seed's search.php reads them), then gives MYDB a new address and
shows that MYWEB follows it, without MYWEB being touched. Exits non-zero if any
step does not hold. Usage:

    seed_walkthrough.py --api http://127.0.0.1:8000 --token-file STATE/admin.token \
        --agent-url http://127.0.0.1:7946 --agent-token-file /etc/weft/agent.token
"""

import argparse
import ipaddress
import json
import sys
import time
from pathlib import Path
from typing import Any

import httpx

IMAGE = "weft/base-python:bookworm"

# MYDB: answers every connection on 3306 with the address it was reached at.
DB_SERVER = """
import signal, socket, sys
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("", 3306)); s.listen(16)
while True:
    c, _ = s.accept()
    c.sendall(("MYDB here, at " + c.getsockname()[0] + "\\n").encode()); c.close()
"""

# MYWEB: /hosts is its /etc/hosts; /env its MYDB_* variables (current ones from
# /etc/weft/links.env, and its process environment); /db talks to MYDB by name.
WEB_SERVER = """
import http.server, json, os, shlex, signal, socket, sys
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
def links_env():
    try:
        lines = open("/etc/weft/links.env").read().splitlines()
    except FileNotFoundError:
        return {}
    out = {}
    for line in lines:
        if "=" in line and not line.startswith("#"):
            k, _, v = line.partition("=")
            out[k] = shlex.split(v)[0] if v else ""
    return out
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/hosts":
            body = open("/etc/hosts").read()
        elif self.path == "/env":
            proc = {k: v for k, v in os.environ.items() if k.startswith("MYDB")}
            body = json.dumps({"links_env": links_env(), "process_env": proc})
        elif self.path == "/db":
            try:
                s = socket.create_connection(("MYDB", 3306), timeout=3)
                body = s.recv(200).decode(); s.close()
            except OSError as e:
                body = "cannot reach MYDB: %s\\n" % e
        else:
            self.send_response(404); self.end_headers(); return
        data = body.encode()
        self.send_response(200); self.send_header("Content-Length", str(len(data)))
        self.end_headers(); self.wfile.write(data)
    def log_message(self, *a):
        pass
http.server.ThreadingHTTPServer(("", 80), H).serve_forever()
"""


class Walk:
    """The walk-through's steps against one control plane."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        token = Path(args.token_file).read_text().strip()
        self.api = httpx.Client(
            base_url=args.api, timeout=120, headers={"Authorization": f"Bearer {token}"}
        )
        self.labels = dict(kv.split("=", 1) for kv in args.label)
        self.web_url = f"http://127.0.0.1:{args.host_port}"

    def call(self, method: str, path: str, **kw: Any) -> Any:
        r = self.api.request(method, path, **kw)
        if r.status_code >= 400:
            raise SystemExit(f"{method} {path} -> {r.status_code}: {r.text}")
        return r.json() if r.content else None

    def settled(self, path: str, body: Any) -> Any:
        """Wait until a container converged (a failed attempt is retried by weft)."""
        deadline = time.monotonic() + 60
        while body["status"] != "converged" and time.monotonic() < deadline:
            print("  ", body["status"], body.get("status_reason") or "", "- waiting")
            time.sleep(0.5)
            body = self.call("GET", path)
        if body["status"] != "converged":
            raise SystemExit(f"{path} did not converge: {body}")
        return body

    def say(self, text: str) -> None:
        print(f"\n== {text}", flush=True)

    def web(self, path: str) -> str:
        deadline = time.monotonic() + 30
        while True:
            try:
                return httpx.get(self.web_url + path, timeout=5).text
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def host(self) -> int:
        for h in self.call("GET", "/hosts"):
            if h["agent_url"] == self.args.agent_url.rstrip("/"):
                return int(h["id"])
        token = Path(self.args.agent_token_file).read_text().strip()
        h = self.call(
            "POST",
            "/hosts",
            json={
                "name": f"{self.args.prefix}-host",
                "agent_url": self.args.agent_url,
                "agent_token": token,
            },
        )
        return int(h["id"])

    def run(self) -> int:
        p, subnet = self.args.prefix, ipaddress.ip_network(self.args.subnet)
        self.say("host")
        hid = self.host()
        print(json.dumps(self.call("GET", f"/hosts/{hid}"), indent=1))
        self.say(f"network {p}-net {subnet}")
        net = self.call(
            "POST",
            "/networks?wait=true",
            json={"name": f"{p}-net", "host_id": hid, "subnet": str(subnet), "labels": self.labels},
        )
        print(net["status"], net["subnet"], "gateway", net["gateway"])
        self.say("MYDB: docker run -d --name MYDB worlddb (3306 exposed)")
        db = self.call(
            "POST",
            "/containers?wait=true",
            json={
                "name": f"{p}-MYDB",
                "host_id": hid,
                "image": IMAGE,
                "labels": self.labels,
                "command": ["python3", "-c", DB_SERVER],
                "exposed_ports": ["3306/tcp"],
                "networks": [{"network": f"{p}-net"}],
            },
        )
        db = self.settled(f"/containers/{db['id']}", db)
        db_addr = db["observed"]["addresses"][f"{p}-net"]
        print(db["status"], db["observed"]["state"], "address", db_addr)
        self.say(f"MYWEB: docker run -d -p {self.args.host_port}:80 --link MYDB:MYDB --name MYWEB")
        web = self.call(
            "POST",
            "/containers?wait=true",
            json={
                "name": f"{p}-MYWEB",
                "host_id": hid,
                "image": IMAGE,
                "labels": self.labels,
                "command": ["python3", "-c", WEB_SERVER],
                "exposed_ports": ["80/tcp"],
                "ports": [
                    {"container_port": 80, "host_ip": "127.0.0.1", "host_port": self.args.host_port}
                ],
                "networks": [{"network": f"{p}-net"}],
                "links": [{"to": db["id"], "alias": "MYDB"}],
            },
        )
        web = self.settled(f"/containers/{web['id']}", web)
        link = self.call("GET", "/links", params={"container_id": web["id"]})[0]
        print(web["status"], web["observed"]["state"], "ports", web["observed"]["ports"])
        print("link", json.dumps(link, indent=1))
        ok = self.show(db_addr, db_addr)
        self.say("MYDB gets a new address (recreated by PATCH; MYWEB is not touched)")
        new_ip = str(subnet.network_address + 200)
        db = self.call(
            "PATCH",
            f"/containers/{db['id']}?wait=true",
            json={"networks": [{"network": f"{p}-net", "ipv4_address": new_ip}]},
        )
        db = self.settled(f"/containers/{db['id']}", db)
        moved = db["observed"]["addresses"][f"{p}-net"]
        print(db["status"], "MYDB now at", moved, "(was", db_addr + ")")
        ok = moved != db_addr and ok
        web_id = web["observed"]["docker_id"]
        deadline = time.monotonic() + 30
        while f"{moved}\tMYDB" not in self.web("/hosts") and time.monotonic() < deadline:
            time.sleep(0.3)
        ok = self.show(moved, db_addr) and ok
        same = self.call("GET", f"/containers/{web['id']}")["observed"]["docker_id"] == web_id
        print("MYWEB kept its container:", same)
        if self.args.cleanup:
            self.say("clean up")
            for c in (web, db):
                self.call("DELETE", f"/containers/{c['id']}?wait=true")
            self.call("DELETE", f"/networks/{net['id']}?wait=true")
        print("\nRESULT:", "ok" if ok and same else "FAILED")
        return 0 if ok and same else 1

    def show(self, db_addr: str, at_creation: str) -> bool:
        self.say("inside MYWEB: cat /etc/hosts")
        hosts = self.web("/hosts")
        print(hosts.rstrip())
        self.say("inside MYWEB: MYDB_* variables")
        env = json.loads(self.web("/env"))
        for k, v in sorted(env["links_env"].items()):
            print(f"{k}={v}")
        current = env["links_env"].get("MYDB_PORT_3306_TCP_ADDR")
        fixed = env["process_env"].get("MYDB_PORT_3306_TCP_ADDR")
        print(
            f"(MYWEB's process environment is fixed at its creation, as with Docker: "
            f"MYDB_PORT_3306_TCP_ADDR={fixed}; /etc/weft/links.env, login shells and "
            "/etc/weft/with-links give the current values above)"
        )
        self.say("MYWEB connects to MYDB:3306")
        answer = self.web("/db").strip()
        print(answer)
        return (
            f"{db_addr}\tMYDB" in hosts
            and current == db_addr
            and fixed == at_creation
            and answer.endswith(db_addr)
        )


def main() -> int:
    """Parse arguments and walk."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--api", default="http://127.0.0.1:8000")
    ap.add_argument("--token-file", required=True)
    ap.add_argument("--agent-url", required=True)
    ap.add_argument("--agent-token-file", required=True)
    ap.add_argument("--prefix", default="seed")
    ap.add_argument("--subnet", default="10.233.7.0/24")
    ap.add_argument("--host-port", type=int, default=8080)
    ap.add_argument("--label", action="append", default=[], help="k=v on everything created")
    ap.add_argument("--cleanup", action="store_true", help="remove what was created at the end")
    return Walk(ap.parse_args()).run()


if __name__ == "__main__":
    sys.exit(main())
