"""`weft hosts|networks|containers|links|events` against a MockTransport control plane."""

import json
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from controlplane.cli.commands.common import Connection
from controlplane.cli.main import app

Handler = Callable[[httpx.Request], httpx.Response]
CLEAN_ENV = {
    "WEFT_URL": None,
    "WEFT_TOKEN": None,
    "WEFT_TOKEN_FILE": None,
    "WEFT_STATE_DIR": "/nonexistent-weft-state",
}

HOST = {
    "id": 1,
    "name": "h1",
    "agent_url": "http://127.0.0.1:7946",
    "status": "ready",
    "docker_version": "20.10.24",
    "last_seen": "2026-11-28T11:00:00Z",
    "labels": {},
}
NET = {
    "id": 3,
    "name": "wefttestnet",
    "host_id": 1,
    "subnet": "10.9.0.0/24",
    "gateway": "10.9.0.1",
    "status": "converged",
    "status_reason": None,
}
WEB = {
    "id": 5,
    "name": "web",
    "host_id": 1,
    "image": "img",
    "status": "converged",
    "status_reason": None,
    "ports": [],
    "observed": {
        "state": "running",
        "health": None,
        "ports": [
            {"host_ip": "127.0.0.1", "host_port": 8080, "container_port": 80, "protocol": "tcp"}
        ],
    },
}
DB = {**WEB, "id": 6, "name": "db", "observed": {"state": "exited", "exit_code": 1}}


class FakeControlPlane:
    """Canned answers by (method, path); records every request."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.routes: dict[tuple[str, str], Handler] = {
            ("GET", "/hosts"): lambda r: httpx.Response(200, json=[HOST]),
            ("GET", "/networks"): lambda r: httpx.Response(200, json=[NET]),
            ("GET", "/containers"): lambda r: httpx.Response(200, json=[WEB, DB]),
        }

    def route(self, method: str, path: str, handler: Handler | int | Any) -> None:
        """Answer method path with handler, a status (empty body) or a JSON value."""
        if isinstance(handler, int):
            status = handler
            self.routes[(method, path)] = lambda r: httpx.Response(status)
        elif callable(handler):
            self.routes[(method, path)] = handler
        else:
            self.routes[(method, path)] = lambda r: httpx.Response(200, json=handler)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        handler = self.routes.get((request.method, request.url.path))
        if handler is None:
            return httpx.Response(
                404,
                json={
                    "title": "Not found",
                    "status": 404,
                    "detail": f"no route {request.url.path}",
                },
            )
        return handler(request)

    def sent(self, method: str, path: str) -> httpx.Request:
        """The last request to method path."""
        return [r for r in self.requests if (r.method, r.url.path) == (method, path)][-1]


@pytest.fixture
def cp() -> FakeControlPlane:
    return FakeControlPlane()


def weft(cp: FakeControlPlane, *args: str, env: Mapping[str, str | None] | None = None) -> Any:
    """Run `weft ARGS` against the fake; the result."""
    conn = Connection(transport=httpx.MockTransport(cp))
    return CliRunner().invoke(app, list(args), obj=conn, env={**CLEAN_ENV, **(env or {})})


def test_token_sources_in_order(cp: FakeControlPlane, tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir()
    (state / "admin.token").write_text("from-state-dir\n")
    named = tmp_path / "tok"
    named.write_text("from-file\n")
    cases = [
        (["--token", "flag"], {"WEFT_TOKEN": "env"}, "flag"),
        ([], {"WEFT_TOKEN": "env", "WEFT_TOKEN_FILE": str(named)}, "env"),
        (["--token-file", str(named)], {}, "from-file"),
        ([], {"WEFT_TOKEN_FILE": str(named)}, "from-file"),
        ([], {"WEFT_STATE_DIR": str(state)}, "from-state-dir"),
    ]
    for flags, env, expected in cases:
        result = weft(cp, *flags, "hosts", "ls", env=env)
        assert result.exit_code == 0, result.output
        assert cp.requests[-1].headers["authorization"] == f"Bearer {expected}"
    assert weft(cp, "hosts", "ls").exit_code == 0
    assert "authorization" not in cp.requests[-1].headers
    result = weft(cp, "--url", "http://elsewhere:9", "hosts", "ls")
    assert cp.requests[-1].url.host == "elsewhere"
    missing = weft(cp, "--token-file", str(tmp_path / "nope"), "hosts", "ls")
    assert missing.exit_code == 2 and "cannot read token file" in missing.output


def test_hosts_add_sends_the_agent_token_and_labels(cp: FakeControlPlane, tmp_path: Path) -> None:
    cp.route("POST", "/hosts", lambda r: httpx.Response(201, json={**HOST, "id": 2}))
    token = tmp_path / "agent.token"
    token.write_text("agent-secret\n")
    result = weft(
        cp,
        "hosts",
        "add",
        "http://10.0.0.5:7946",
        "--agent-token-file",
        str(token),
        "--label",
        "zone=a",
        "--label",
        "weft.test=1",
    )
    assert result.exit_code == 0, result.output
    assert "(id 2): ready" in result.stdout
    assert json.loads(cp.sent("POST", "/hosts").content) == {
        "name": "10.0.0.5",
        "agent_url": "http://10.0.0.5:7946",
        "agent_token": "agent-secret",
        "labels": {"zone": "a", "weft.test": "1"},
    }
    no_token = weft(cp, "hosts", "add", "http://10.0.0.5:7946")
    assert no_token.exit_code == 2 and "--agent-token-file" in no_token.output
    bad_label = weft(cp, "hosts", "add", "http://x:1", "--agent-token", "t", "--label", "novalue")
    assert bad_label.exit_code == 2


def test_api_errors_exit_1_with_title_detail_and_field(cp: FakeControlPlane) -> None:
    problem = {
        "type": "about:blank",
        "title": "Invalid",
        "status": 422,
        "detail": "the agent at http://x:1 rejected the token (401)",
        "errors": [{"loc": ["body", "agent_token"], "msg": "rejected"}],
    }
    cp.route("POST", "/hosts", lambda r: httpx.Response(422, json=problem))
    result = weft(cp, "hosts", "add", "http://x:1", "--agent-token", "wrong", "--name", "x")
    assert result.exit_code == 1
    assert "422 Invalid: the agent at http://x:1 rejected the token (401)" in result.stderr
    assert "at body.agent_token: rejected" in result.stderr
    cp.route(
        "GET",
        "/hosts",
        lambda r: httpx.Response(
            401, json={"title": "Unauthorized", "status": 401, "detail": "unknown token"}
        ),
    )
    result = weft(cp, "hosts", "ls")
    assert result.exit_code == 1 and "--token-file" in result.stderr


def test_unreachable_control_plane_exits_3(cp: FakeControlPlane) -> None:
    def refused(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("Connection refused", request=request)

    cp.route("GET", "/hosts", refused)
    result = weft(cp, "hosts", "ls")
    assert result.exit_code == 3
    assert result.stderr.strip() == (
        "error: cannot reach the control plane at http://127.0.0.1:8000: Connection refused"
    )


def test_names_resolve_to_ids_and_unknown_names_exit_1(cp: FakeControlPlane) -> None:
    cp.route("DELETE", "/hosts/1", 204)
    assert weft(cp, "hosts", "rm", "h1", "--force").exit_code == 0
    assert cp.sent("DELETE", "/hosts/1").url.params["force"] == "true"
    missing = weft(cp, "hosts", "rm", "nope")
    assert missing.exit_code == 1 and "no host nope" in missing.stderr
    cp.route("DELETE", "/containers/6", 204)
    assert weft(cp, "containers", "rm", "db", "--wait").exit_code == 0
    assert cp.sent("DELETE", "/containers/6").url.params["wait"] == "true"
    assert weft(cp, "containers", "rm", "5").exit_code == 1  # DELETE /containers/5 unrouted
    cp.route("GET", "/containers", [WEB, {**WEB, "id": 9, "host_id": 2}])
    ambiguous = weft(cp, "containers", "inspect", "web")
    assert ambiguous.exit_code == 1 and "ids 5, 9" in ambiguous.stderr


def test_networks_create_and_ls(cp: FakeControlPlane) -> None:
    cp.route("POST", "/networks", lambda r: httpx.Response(201, json=NET))
    result = weft(
        cp,
        "networks",
        "create",
        "wefttestnet",
        "--host",
        "h1",
        "--subnet",
        "10.9.0.0/24",
        "--label",
        "weft.test=1",
        "--wait",
        "--json",
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == NET
    sent = cp.sent("POST", "/networks")
    assert sent.url.params["wait"] == "true"
    assert json.loads(sent.content) == {
        "name": "wefttestnet",
        "driver": "bridge",
        "host_id": 1,
        "subnet": "10.9.0.0/24",
        "gateway": None,
        "hosts": [],
        "encrypted": False,
        "labels": {"weft.test": "1"},
    }
    overlay = weft(
        cp, "networks", "create", "ov", "--driver", "overlay", "--span", "h1", "--encrypted"
    )
    assert overlay.exit_code == 0, overlay.output
    assert json.loads(cp.sent("POST", "/networks").content) == {
        "name": "ov",
        "driver": "overlay",
        "host_id": None,
        "subnet": None,
        "gateway": None,
        "hosts": [1],
        "encrypted": True,
        "labels": {},
    }
    table = weft(cp, "networks", "ls", "--host", "h1")
    assert table.exit_code == 0
    assert cp.sent("GET", "/networks").url.params["host_id"] == "1"
    assert "wefttestnet" in table.stdout and "10.9.0.0/24" in table.stdout


def test_containers_run_maps_docker_run_options(cp: FakeControlPlane) -> None:
    cp.route("POST", "/containers", lambda r: httpx.Response(201, json=WEB))
    result = weft(
        cp,
        "containers",
        "run",
        "--host",
        "h1",
        "--name",
        "web",
        "--network",
        "wefttestnet:www,site",
        "-p",
        "127.0.0.1:8080:80",
        "-p",
        "53/udp",
        "-e",
        "A=1",
        "--expose",
        "443",
        "--restart",
        "on-failure:3",
        "--health-cmd",
        "true",
        "--health-interval",
        "1m30s",
        "--dns",
        "10.9.0.1",
        "--dns-search",
        "weave.local",
        "-l",
        "weft.test=1",
        "img",
        "python3",
        "-m",
        "http.server",
        "80",
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "container web (id 5): converged, running"
    assert json.loads(cp.sent("POST", "/containers").content) == {
        "name": "web",
        "host_id": 1,
        "image": "img",
        "command": ["python3", "-m", "http.server", "80"],
        "env": {"A": "1"},
        "exposed_ports": ["443/tcp"],
        "ports": [
            {"container_port": 80, "protocol": "tcp", "host_ip": "127.0.0.1", "host_port": 8080},
            {"container_port": 53, "protocol": "udp"},
        ],
        "networks": [{"network": "wefttestnet", "aliases": ["www", "site"]}],
        "restart_policy": {"name": "on-failure", "maximum_retry_count": 3},
        "healthcheck": {"test": ["CMD-SHELL", "true"], "interval_s": 90.0},
        "labels": {"weft.test": "1"},
        "dns": ["10.9.0.1"],
        "dns_search": ["weave.local"],
    }
    bad = weft(cp, "containers", "run", "--host", "h1", "--name", "x", "-p", "a:b", "img")
    assert bad.exit_code == 2 and "not a port" in bad.output
    usage = weft(cp, "containers", "run", "--name", "x", "img")
    assert usage.exit_code == 2


def test_containers_run_links_like_docker_run_link(cp: FakeControlPlane) -> None:
    # Another host also has a "db": the one on the new container's host wins.
    far_db = {**DB, "id": 9, "host_id": 2}
    far_only = {**DB, "id": 10, "host_id": 2, "name": "cache"}
    cp.route("GET", "/containers", [far_db, WEB, DB, far_only])
    cp.route("POST", "/containers", lambda r: httpx.Response(201, json=WEB))
    args = ("containers", "run", "--host", "h1", "--name", "app")
    result = weft(cp, *args, "--link", "db:MYDB", "--link", "web", "--link", "cache:C", "img")
    assert result.exit_code == 0, result.output
    assert json.loads(cp.sent("POST", "/containers").content)["links"] == [
        {"to": 6, "alias": "MYDB"},
        {"to": 5, "alias": "web"},
        {"to": 10, "alias": "C"},
    ]
    by_id = weft(cp, *args, "--link", "9:FAR", "img")
    assert by_id.exit_code == 0, by_id.output
    assert json.loads(cp.sent("POST", "/containers").content)["links"] == [
        {"to": 9, "alias": "FAR"}
    ]
    posts = len([r for r in cp.requests if r.method == "POST"])
    missing = weft(cp, *args, "--link", "nope:X", "img")
    assert missing.exit_code == 1 and "no container nope" in missing.stderr
    bad = weft(cp, *args, "--link", "db:", "img")
    assert bad.exit_code == 2 and "NAME[:ALIAS]" in bad.output
    assert len([r for r in cp.requests if r.method == "POST"]) == posts  # nothing sent
    # Without --link the body has no links field at all.
    assert weft(cp, *args, "img").exit_code == 0
    assert "links" not in json.loads(cp.sent("POST", "/containers").content)


def test_containers_ls_logs_restart(cp: FakeControlPlane) -> None:
    table = weft(cp, "containers", "ls")
    assert table.exit_code == 0
    assert "127.0.0.1:8080->80/tcp" in table.stdout and "exited [1]" in table.stdout
    cp.route("GET", "/containers/5/logs", lambda r: httpx.Response(200, text="hello\n"))
    logs = weft(cp, "containers", "logs", "web", "-n", "7")
    assert (
        logs.stdout == "hello\n" and cp.sent("GET", "/containers/5/logs").url.params["tail"] == "7"
    )
    cp.route("POST", "/containers/6/restart", lambda r: httpx.Response(202, json=DB))
    assert weft(cp, "containers", "restart", "db").exit_code == 0


def test_links_create_by_names_and_ls(cp: FakeControlPlane) -> None:
    link = {
        "id": 4,
        "from": 5,
        "to": 6,
        "alias": "MYDB",
        "address": "10.9.0.3",
        "env": {"MYDB_NAME": "/web/MYDB"},
        "created_at": "2026-11-28T11:00:00Z",
    }
    cp.route("POST", "/links", lambda r: httpx.Response(201, json=link))
    cp.route("GET", "/links", [link])
    result = weft(cp, "links", "create", "web", "db", "MYDB")
    assert result.exit_code == 0, result.output
    assert json.loads(cp.sent("POST", "/links").content) == {"from": 5, "to": 6, "alias": "MYDB"}
    assert "web -> db as MYDB (10.9.0.3)" in result.stdout
    table = weft(cp, "links", "ls", "--container", "db")
    assert cp.sent("GET", "/links").url.params["container_id"] == "6"
    assert "MYDB" in table.stdout and "web" in table.stdout


def test_events_ls_and_follow(cp: FakeControlPlane) -> None:
    old = {
        "id": 1,
        "at": "2026-11-28T11:00:00Z",
        "resource": "host",
        "resource_id": 1,
        "resource_name": "h1",
        "host_id": 1,
        "action": "register",
        "result": "ok",
        "reason": None,
    }
    new = {**old, "id": 2, "resource": "container", "resource_name": "web", "action": "create"}
    other = {**old, "id": 3, "resource": "network", "action": "create"}
    cp.route("GET", "/events", [old])
    stream = "".join(f"id: {e['id']}\ndata: {json.dumps(e)}\n\n" for e in (new, other))
    cp.route(
        "GET",
        "/events/stream",
        lambda r: httpx.Response(
            200, text=": subscribed\n\n" + stream, headers={"content-type": "text/event-stream"}
        ),
    )
    table = weft(cp, "events", "ls")
    assert table.exit_code == 0 and "register" in table.stdout
    follow = weft(cp, "events", "ls", "--follow", "--json")
    assert follow.exit_code == 0, follow.output
    assert [json.loads(line)["id"] for line in follow.stdout.splitlines()] == [1, 2, 3]
    assert cp.sent("GET", "/events/stream").url.params["after"] == "1"
    only = weft(cp, "events", "ls", "-f", "--resource", "container")
    listed = [r for r in cp.requests if r.url.path == "/events"][-1]
    assert listed.url.params["resource"] == "container"
    assert cp.sent("GET", "/events/stream").url.params["resource"] == "container"
    # The fake ignores filters; the stream is filtered by the CLI (network event 3 left out).
    assert [line.split()[0] for line in only.stdout.splitlines()] == ["1", "2"]


class _CutStream(httpx.SyncByteStream):
    """A stream that delivers `body`, then loses the connection."""

    def __init__(self, body: str) -> None:
        self.body = body.encode()

    def __iter__(self) -> Iterator[bytes]:
        yield self.body
        raise httpx.RemoteProtocolError("peer closed connection without sending complete body")


def test_events_follow_resumes_after_a_lost_connection(
    cp: FakeControlPlane, monkeypatch: pytest.MonkeyPatch
) -> None:
    from controlplane.cli.commands import events as events_cmd

    pauses: list[float] = []
    monkeypatch.setattr(events_cmd, "_sleep", pauses.append)
    base = {
        "at": "2026-11-28T11:00:00Z",
        "resource": "container",
        "resource_id": 1,
        "resource_name": "web",
        "host_id": 1,
        "action": "create",
        "result": "ok",
        "reason": None,
    }
    one, two, three = ({**base, "id": i} for i in (1, 2, 3))

    def sse(*events: dict[str, Any]) -> str:
        return "".join(f"id: {e['id']}\ndata: {json.dumps(e)}\n\n" for e in events)

    answers = iter(
        [
            httpx.Response(200, stream=_CutStream(sse(two))),
            httpx.Response(200, stream=_CutStream("")),  # lost again before any event
            httpx.Response(200, text=sse(three), headers={"content-type": "text/event-stream"}),
        ]
    )
    cp.route("GET", "/events", [one])
    cp.route("GET", "/events/stream", lambda r: next(answers))
    result = weft(cp, "events", "ls", "--follow", "--json")
    assert result.exit_code == 0, result.output
    assert [json.loads(line)["id"] for line in result.stdout.splitlines()] == [1, 2, 3]
    resumed = [r.url.params["after"] for r in cp.requests if r.url.path == "/events/stream"]
    assert resumed == ["1", "2", "2"]
    assert pauses == [1.0, 2.0]
    assert "resuming after event 2" in result.stderr


def test_wait_that_does_not_converge_exits_1_with_the_reason(cp: FakeControlPlane) -> None:
    failed = {**WEB, "status": "failed", "status_reason": "no image nope:1 on the host"}
    cp.route("POST", "/containers", lambda r: httpx.Response(201, json=failed))
    result = weft(cp, "containers", "run", "--host", "h1", "--name", "web", "--wait", "nope:1")
    assert result.exit_code == 1
    assert "web did not converge: failed (no image nope:1 on the host)" in result.stderr
    # Without --wait a pending or failed status is reported, not an error.
    assert weft(cp, "containers", "run", "--host", "h1", "--name", "web", "x").exit_code == 0
    pending = {**NET, "status": "pending", "status_reason": "agent unreachable"}
    cp.route("POST", "/networks", lambda r: httpx.Response(201, json=pending))
    result = weft(cp, "networks", "create", "n", "--host", "1", "--subnet", "10.0.0.0/24", "--wait")
    assert result.exit_code == 1 and "pending (agent unreachable)" in result.stderr


def test_updates_send_only_what_was_given(cp: FakeControlPlane, tmp_path: Path) -> None:
    cp.route("PATCH", "/containers/5", WEB)
    cp.route("PATCH", "/hosts/1", HOST)
    cp.route("PATCH", "/networks/3", NET)
    result = weft(
        cp,
        "containers",
        "update",
        "web",
        "--cmd",
        "python3 -c 'print(1)'",
        "-e",
        "A=2",
        "--restart",
        "always",
        "--wait",
    )
    assert result.exit_code == 0, result.output
    sent = cp.sent("PATCH", "/containers/5")
    assert sent.url.params["wait"] == "true"
    assert json.loads(sent.content) == {
        "command": ["python3", "-c", "print(1)"],
        "env": {"A": "2"},
        "restart_policy": {"name": "always"},
    }
    weft(cp, "containers", "update", "web", "--image", "img:2")
    assert json.loads(cp.sent("PATCH", "/containers/5").content) == {"image": "img:2"}
    assert weft(cp, "containers", "update", "web").exit_code == 2
    token = tmp_path / "t"
    token.write_text("new\n")
    assert weft(cp, "hosts", "update", "h1", "--agent-token-file", str(token)).exit_code == 0
    assert json.loads(cp.sent("PATCH", "/hosts/1").content) == {"agent_token": "new"}
    assert weft(cp, "hosts", "update", "h1", "--no-labels").exit_code == 0
    assert json.loads(cp.sent("PATCH", "/hosts/1").content) == {"labels": {}}
    assert weft(cp, "networks", "update", "wefttestnet", "--label", "a=b").exit_code == 0
    assert json.loads(cp.sent("PATCH", "/networks/3").content) == {"labels": {"a": "b"}}
