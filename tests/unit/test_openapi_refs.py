"""Every $ref in the control plane's and the agent's OpenAPI points at a schema that is
there: ReDoc renders nothing at all for a document with one dangling reference."""

import json
import re
from pathlib import Path

import docker

from controlplane.agent.app import create_app as create_agent
from controlplane.agent.settings import AgentSettings
from controlplane.server.app import create_app
from controlplane.server.settings import Settings

REF = re.compile(r'"\$ref": "#/components/schemas/([^"]+)"')


def dangling(spec: dict) -> set[str]:
    named = set(spec.get("components", {}).get("schemas", {}))
    return set(REF.findall(json.dumps(spec))) - named


def test_control_plane_openapi_has_no_dangling_refs(tmp_path: Path) -> None:
    spec = create_app(Settings(state_dir=tmp_path)).openapi()
    assert REF.search(json.dumps(spec))  # the check has something to check
    assert dangling(spec) == set()


def test_agent_openapi_has_no_dangling_refs(tmp_path: Path) -> None:
    (tmp_path / "token").write_text("t")
    engine = docker.DockerClient(base_url="unix:///nonexistent/docker.sock", version="1.41")
    app = create_agent(AgentSettings(token_file=tmp_path / "token"), engine=engine)
    assert dangling(app.openapi()) == set()
