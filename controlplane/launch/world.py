"""`weft world up/down` (`make up/down`): the world stack, deployed by the control plane.

`up` launches the control plane and a local agent (`local.py`), registers this
host through the API, deploys `deploy/world.yaml` with one stack write and
follows it until it converged, then prints the seed's own search and where
everything answers. A second `up` keeps what runs. `down` removes the stack with
its data volume through the API, then the launched containers and their state.
"""

import json
import shutil
import socket
import urllib.request
from pathlib import Path
from typing import Any

import docker

from controlplane import __version__
from controlplane.cli.apiclient import ApiClient, ControlPlaneClientError
from controlplane.cli.commands.stacks import deploy_file, print_services
from controlplane.contract.labels import STACK
from controlplane.launch.local import (
    LaunchError,
    Site,
    ensure_parts,
    remove_matching,
    remove_parts,
    secret_file,
)

ROOT = Path(__file__).resolve().parents[2]
WORLD_FILE = ROOT / "deploy" / "world.yaml"


def up(site: Site | None = None, client: docker.DockerClient | None = None) -> dict[str, Any]:
    """Launch, register, deploy the world stack and report; the stack as the API shows it."""
    site = site or Site()
    if not WORLD_FILE.is_file():
        raise LaunchError(f"no {WORLD_FILE}: run from a source checkout")
    client = client or docker.from_env(timeout=300)
    ensure_parts(site, client)
    token = site.admin_token_file.read_text().strip()
    with ApiClient(site.api_url, token, timeout=900) as api:
        _register(api, site)
        variables = {
            "WORLDDB_PASSWORD": secret_file(site.secrets_dir / f"{site.stack}-db-password"),
            "WEFT_VERSION": __version__,
            "SEARCH_PORT": str(site.search_port),
        }
        stack = deploy_file(api, WORLD_FILE, site.stack, variables)
    print_services(stack)
    if stack["status"] != "converged":
        raise LaunchError(f"stack {stack['name']} {stack['status']}: {stack['status_reason']}")
    _report(site)
    return stack


def _register(api: ApiClient, site: Site) -> None:
    """This host, once: the local agent's URL and token."""
    if any(h["agent_url"].rstrip("/") == site.agent_url for h in api.get("/hosts")):
        return
    name = socket.gethostname().split(".")[0] or "local"
    api.post(
        "/hosts",
        {
            "name": name if site.prefix == "weft" else f"{site.prefix}-host",
            "agent_url": site.agent_url,
            "agent_token": site.agent_token_file.read_text().strip(),
        },
    )


def _report(site: Site) -> None:
    """The answer to the seed's search, and where the parts answer."""
    search = f"http://127.0.0.1:{site.search_port}"
    with urllib.request.urlopen(f"{search}/cities?q=darwin", timeout=10) as resp:
        answer = json.load(resp)
    print(f"weft: GET {search}/cities?q=darwin ->")
    for item in answer["items"]:
        print(
            f"  {item['country']:<12} {item['name']:<14} "
            f"{item['latitude']:>10} {item['longitude']:>11}"
        )
    print(f"weft: search page        {search}/")
    print(f"weft: search API docs    {search}/docs")
    print(f"weft: control plane docs {site.api_url}/docs")
    print(f"weft: admin token        {site.admin_token_file}")
    print(f"weft: `weft stack ps {site.stack}` shows the stack")


def down(site: Site | None = None, client: docker.DockerClient | None = None) -> None:
    """Remove the stack (and its data), then the launched control plane and agent."""
    site = site or Site()
    client = client or docker.from_env(timeout=300)
    try:
        token = site.admin_token_file.read_text().strip()
        with ApiClient(site.api_url, token, timeout=300) as api:
            if any(s["name"] == site.stack for s in api.get("/stacks")):
                api.delete(f"/stacks/{site.stack}", {"volumes": True, "wait": True})
                print(f"weft: removed stack {site.stack} and its volume")
    except (OSError, ControlPlaneClientError) as exc:
        # Without the control plane, what it made is found by the stack's label.
        print(f"weft: the control plane did not answer ({exc}); removing by label")
        remove_matching(client, lambda _name, found: (found or {}).get(STACK) == site.stack)
    for name in remove_parts(site, client):
        print(f"weft: removed container {name}")
    for path in (site.state_dir, site.secrets_dir):
        shutil.rmtree(path, ignore_errors=True)
    site.agent_token_file.unlink(missing_ok=True)
