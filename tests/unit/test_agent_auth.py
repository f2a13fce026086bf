"""The agent's bearer-token check, at the function and through the app."""

from pathlib import Path

import docker
import httpx
import pytest

from controlplane.agent.app import create_app
from controlplane.agent.auth import check_bearer, read_token
from controlplane.agent.errors import Unauthenticated
from controlplane.agent.settings import AgentSettings

TOKEN = "t0ken-secret"


@pytest.fixture
def token_file(tmp_path: Path) -> Path:
    path = tmp_path / "agent.token"
    path.write_text(f"  {TOKEN}\n")
    return path


def test_read_token_strips_whitespace(token_file: Path) -> None:
    assert read_token(token_file) == TOKEN


def test_read_token_refuses_empty_file(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.write_text("\n")
    with pytest.raises(ValueError, match="empty"):
        read_token(empty)


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "Bearer",
        "Bearer ",
        "Basic dXNlcjpwdw==",
        f"Token {TOKEN}",
        "Bearer wrong",
        f"Bearer {TOKEN}x",
        "Bearer \u2603",
    ],
)
def test_check_bearer_rejects(header: str | None) -> None:
    with pytest.raises(Unauthenticated):
        check_bearer(header, TOKEN)


@pytest.mark.parametrize("header", [f"Bearer {TOKEN}", f"bearer {TOKEN}", f"Bearer {TOKEN} "])
def test_check_bearer_accepts(header: str) -> None:
    check_bearer(header, TOKEN)


def _client(token_file: Path) -> httpx.AsyncClient:
    # No lifespan, and an engine client that never connects: these requests must fail
    # (authentication, validation) before any engine call.
    engine = docker.DockerClient(base_url="unix:///nonexistent/docker.sock", version="1.41")
    app = create_app(AgentSettings(token_file=token_file, watch_events=False), engine=engine)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://agent")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/info"),
        ("GET", "/v1/containers"),
        ("PUT", "/v1/networks/x"),
        ("DELETE", "/v1/containers/x"),
        ("PUT", "/v1/images"),
        ("GET", "/v1/images/a/b:c"),
        ("GET", "/v1/images/a/b:c/tarball"),
    ],
)
@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer nope"}])
async def test_app_rejects_without_the_token(
    token_file: Path, method: str, path: str, headers: dict[str, str]
) -> None:
    async with _client(token_file) as client:
        r = await client.request(method, path, headers=headers)
    assert r.status_code == 401
    assert r.headers["content-type"] == "application/problem+json"
    assert r.headers["www-authenticate"] == "Bearer"
    body = r.json()
    assert body["status"] == 401 and body["title"] == "Unauthenticated"


async def test_healthz_is_open(token_file: Path) -> None:
    async with _client(token_file) as client:
        r = await client.get("/healthz")
    assert r.status_code == 200 and r.json() == {"status": "ok"}


async def test_validation_errors_are_problems_naming_the_field(token_file: Path) -> None:
    """An invalid body is rejected before any engine call, with the field at fault."""
    async with _client(token_file) as client:
        r = await client.put(
            "/v1/networks/wefttest-n",
            json={"subnet": "10.0.0.0/24", "gateway": "10.9.0.1"},
            headers={"Authorization": f"Bearer {TOKEN}"},
        )
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["errors"][0]["loc"][0] == "body"
    assert "outside subnet" in r.json()["errors"][0]["msg"]


def test_openapi_documents_the_api(token_file: Path) -> None:
    app = create_app(AgentSettings(token_file=token_file, watch_events=False))
    spec = app.openapi()
    paths = spec["paths"]
    for path in ["/healthz", "/v1/info", "/v1/networks/{name}", "/v1/containers/{name}",
                 "/v1/containers/{name}/links", "/v1/containers/{name}/logs",
                 "/v1/containers/{name}/restart", "/v1/images", "/v1/images/{ref}"]:  # fmt: skip
        assert path in paths, path
    assert "/etc/weft/links.env" in paths["/v1/containers/{name}/links"]["put"]["description"]
    assert "application/x-tar" in paths["/v1/images"]["put"]["requestBody"]["content"]
