"""Every route of the control plane and of the agent, taken from the app's route table
(so a route added later is covered without touching this test), needs a token; a
reader token may not write. Only the few routes named here are open."""

import re
from collections.abc import Iterator
from typing import Any

import docker
import pytest
from fastapi.testclient import TestClient
from starlette.routing import Mount

from controlplane.agent.app import create_app as create_agent
from controlplane.agent.settings import AgentSettings
from controlplane.server.auth import READ_METHODS
from tests.unit.cp_app import control_plane

# Open on purpose: liveness, and the control plane's own API description.
CP_OPEN = {"/healthz", "/docs", "/redoc", "/openapi.json"}
AGENT_OPEN = {"/healthz"}


def flat_routes(app: Any) -> Iterator[Any]:
    """The app's routes with included routers expanded (FastAPI >= 0.16x includes lazily)."""
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # older FastAPI: app.routes is already flat
        yield from app.routes
        return
    yield from iter_route_contexts(app.routes)


def calls(app: Any, open_paths: set[str]) -> list[tuple[str, str]]:
    """(method, concrete path) for every route not open, path parameters filled in."""
    out = []
    for route in flat_routes(app):
        if isinstance(getattr(route, "original_route", route), Mount):
            assert route.path == "/docs-assets", f"unexpected mount {route.path}"
            continue  # static Swagger UI / ReDoc files, nothing of the app's
        assert route.methods, f"a route without methods: {route.path}"
        if route.path in open_paths:
            continue
        path = re.sub(r"\{[^}]+\}", "1", route.path)
        out += [(method, path) for method in sorted(route.methods)]
    assert len(out) > 10, out
    return out


def test_every_control_plane_route_needs_a_token_and_readers_may_not_write(tmp_path):
    with control_plane(tmp_path) as cp:
        routes = calls(cp.client.app, CP_OPEN)
        # The routes the issue named are among them (the table is really walked).
        assert ("DELETE", "/containers/1") in routes and ("GET", "/events/stream") in routes
        reader = cp.client.post("/tokens", json={"name": "ro", "role": "reader"}).json()["token"]
        for method, path in routes:
            r = cp.client.request(method, path, headers={"Authorization": ""}, json={})
            assert r.status_code == 401, (method, path, r.status_code)
            assert r.headers["content-type"] == "application/problem+json", (method, path)
            if method in READ_METHODS:
                continue  # a reader's GET is allowed (an event stream would not end)
            r = cp.client.request(
                method, path, headers={"Authorization": f"Bearer {reader}"}, json={}
            )
            assert r.status_code == 403, (method, path, r.status_code)
        # Nothing changed: the refused writes made no host, no token.
        assert cp.client.get("/hosts").json() == []
        assert [t["name"] for t in cp.client.get("/tokens").json()] == ["admin", "ro"]


def test_the_open_control_plane_routes_are_the_ones_listed(tmp_path):
    with control_plane(tmp_path) as cp:
        for path in CP_OPEN:
            r = cp.client.get(path, headers={"Authorization": ""})
            assert r.status_code == 200, path


@pytest.fixture
def agent(tmp_path) -> TestClient:
    (tmp_path / "token").write_text("agent-tok")
    settings = AgentSettings(token_file=tmp_path / "token", watch_events=False)
    engine = docker.DockerClient(base_url="unix:///nonexistent/docker.sock", version="1.41")
    return TestClient(create_agent(settings, engine=engine))


def test_every_agent_route_needs_its_token(agent):
    routes = calls(agent.app, AGENT_OPEN)
    for needed in ("/docs", "/redoc", "/openapi.json", "/metrics"):
        assert ("GET", needed) in routes
    with agent:
        for method, path in routes:
            for headers in ({}, {"Authorization": "Bearer wrong"}):
                r = agent.request(method, path, headers=headers, json={})
                assert r.status_code == 401, (method, path, headers, r.status_code)
        assert agent.get("/healthz").status_code == 200
