"""The control plane's API client: auth header, error translation, SSE parsing."""

import json

import httpx
import pytest

from controlplane.cli.apiclient import (
    ApiClient,
    ControlPlaneError,
    ControlPlaneUnavailable,
    parse_sse,
)

PROBLEM = "application/problem+json"


def _client(handler, token: str | None = "s3cret") -> ApiClient:
    return ApiClient("http://cp.test:8000/", token, transport=httpx.MockTransport(handler))


def test_sends_the_bearer_token_and_query_and_parses_json() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(201, json={"id": 7, "name": "web"})

    with _client(handler) as api:
        row = api.post("/containers", {"name": "web"}, {"wait": True, "skip": None})
    assert row == {"id": 7, "name": "web"}
    (req,) = seen
    assert req.headers["authorization"] == "Bearer s3cret"
    assert str(req.url) == "http://cp.test:8000/containers?wait=true"
    assert json.loads(req.content) == {"name": "web"}


def test_no_token_sends_no_authorization_header() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(204)

    with _client(handler, token=None) as api:
        api.delete("/links/3")
    assert "authorization" not in seen[0].headers


def test_problem_json_becomes_control_plane_error_with_the_field_at_fault() -> None:
    body = {
        "type": "about:blank",
        "title": "Conflict",
        "status": 409,
        "detail": "subnet 10.1.0.0/24 overlaps net-a",
        "errors": [{"loc": ["body", "subnet"], "msg": "overlaps net-a"}],
    }

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(409, json=body, headers={"content-type": PROBLEM})

    with _client(handler) as api, pytest.raises(ControlPlaneError) as caught:
        api.post("/networks", {})
    err = caught.value
    assert (err.status, err.title, err.detail) == (409, "Conflict", body["detail"])
    assert [(e.loc, e.where, e.msg) for e in err.errors] == [
        (["body", "subnet"], "body.subnet", "overlaps net-a")
    ]
    assert str(err) == "409 Conflict: subnet 10.1.0.0/24 overlaps net-a"


def test_a_non_problem_error_keeps_status_and_text() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(502, text="<html>bad gateway</html>")

    with _client(handler) as api, pytest.raises(ControlPlaneError) as caught:
        api.get("/hosts")
    assert caught.value.status == 502
    assert caught.value.title == "Bad Gateway"
    assert caught.value.detail == "<html>bad gateway</html>"
    assert caught.value.errors == []


def test_connection_refused_and_timeouts_are_unavailable() -> None:
    def refused(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("[Errno 111] Connection refused", request=request)

    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    with _client(refused) as api, pytest.raises(ControlPlaneUnavailable) as caught:
        api.get("/hosts")
    assert str(caught.value) == (
        "cannot reach the control plane at http://cp.test:8000: [Errno 111] Connection refused"
    )
    with _client(slow) as api, pytest.raises(ControlPlaneUnavailable, match="in time"):
        api.get("/hosts")


def test_text_returns_plain_bodies() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.params["tail"] == "5"
        return httpx.Response(200, text="line 1\nline 2\n")

    with _client(handler) as api:
        assert api.text("/containers/1/logs", {"tail": 5}) == "line 1\nline 2\n"


def test_parse_sse_joins_data_lines_skips_comments_and_keeps_ids() -> None:
    lines = [
        ": subscribed",
        "",
        "id: 4",
        "event: container",
        'data: {"id": 4,',
        'data: "action": "create"}',
        "",
        ": keep-alive",
        "",
        "data:plain",
        "retry: 3000",
        "",
        "data: unterminated",
    ]
    events = list(parse_sse(lines))
    assert [(e.id, e.event, e.data) for e in events] == [
        ("4", "container", '{"id": 4,\n"action": "create"}'),
        ("4", "message", "plain"),
        ("4", "message", "unterminated"),
    ]
    assert events[0].json() == {"id": 4, "action": "create"}
    assert events[1].extra == {"retry": "3000"}


def test_stream_yields_events_from_the_wire_and_translates_errors() -> None:
    body = (
        ": subscribed\n\n"
        'id: 1\nevent: host\ndata: {"id": 1, "action": "register"}\n\n'
        ": keep-alive\n\n"
        'id: 2\nevent: network\r\ndata: {"id": 2, "action": "create"}\r\n\r\n'
    )

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.headers["accept"] == "text/event-stream"
        if request.url.params.get("after") == "bad":
            return httpx.Response(
                422, json={"title": "Invalid request", "status": 422, "detail": "after"}
            )
        return httpx.Response(200, text=body, headers={"content-type": "text/event-stream"})

    with _client(handler) as api:
        got = [e.json() for e in api.stream("/events/stream", {"after": 0})]
        assert got == [{"id": 1, "action": "register"}, {"id": 2, "action": "create"}]
        with pytest.raises(ControlPlaneError) as caught:
            list(api.stream("/events/stream", {"after": "bad"}))
    assert caught.value.status == 422
