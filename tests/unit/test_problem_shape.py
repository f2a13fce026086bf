"""Agent and control plane answer errors alike: `errors` only when a field is at fault."""

from pathlib import Path

import docker
import httpx

from controlplane.agent.app import create_app
from controlplane.agent.settings import AgentSettings
from tests.unit.cp_app import control_plane

TOKEN = "t0ken-secret"
KEYS = {"type", "title", "status", "detail"}


def agent_client(tmp_path: Path) -> httpx.AsyncClient:
    # An engine that never connects: these requests fail before any engine call.
    token_file = tmp_path / "agent.token"
    token_file.write_text(TOKEN)
    engine = docker.DockerClient(base_url="unix:///nonexistent/docker.sock", version="1.41")
    app = create_app(AgentSettings(token_file=token_file, watch_events=False), engine=engine)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://agent")


async def test_the_agent_leaves_errors_out_unless_a_field_is_at_fault(tmp_path: Path) -> None:
    auth = {"Authorization": f"Bearer {TOKEN}"}
    async with agent_client(tmp_path) as client:
        unauthenticated = await client.get("/v1/info")
        no_route = await client.get("/v1/nothing-here", headers=auth)
        bad_label = await client.get("/v1/containers", params={"label": "nokey"}, headers=auth)
    assert unauthenticated.status_code == 401 and set(unauthenticated.json()) == KEYS
    assert no_route.status_code == 404 and set(no_route.json()) == KEYS
    assert bad_label.status_code == 422, bad_label.text
    assert bad_label.json()["errors"] == [
        {"loc": ["query", "label", 0], "msg": "label filter 'nokey' is not key=value"}
    ]


def test_the_control_plane_leaves_errors_out_unless_a_field_is_at_fault(tmp_path: Path) -> None:
    with control_plane(tmp_path) as cp:
        missing = cp.client.get("/containers/4242")
        no_route = cp.client.get("/nothing-here")
        unauthenticated = cp.client.get("/hosts", headers={"Authorization": "Bearer nope"})
        no_host = cp.client.post(
            "/networks", json={"name": "n", "host_id": 4242, "subnet": "10.7.0.0/24"}
        )
    for r, status in ((missing, 404), (no_route, 404), (unauthenticated, 401)):
        assert r.status_code == status and set(r.json()) == KEYS, r.text
    assert no_host.status_code == 422
    assert no_host.json()["errors"] == [{"loc": ["body", "host_id"], "msg": "no host 4242"}]
