"""Apply a container's link set: hosts block, links.env and friends (see schemas.py).

The hosts file is Docker's, bind-mounted into the container and rebuilt at each
start; weft owns one delimited block in it. It is written in place through the
host path (`HostsPath`) when the agent sees Docker's data root, else through
`docker exec` (which needs `sh` in the image and a running container).
"""

import logging
import os
import threading
from typing import Any

import docker

from controlplane.agent.driver.engine import NAME_LOCKS, translate
from controlplane.agent.driver.files import exec_ok, put_files, read_file
from controlplane.agent.errors import AgentFailure, Conflict
from controlplane.contract import labels as L
from controlplane.contract import linkfiles as F
from controlplane.contract.schemas import LinksState, LinkTarget

log = logging.getLogger(__name__)
_STAGED_HOSTS = "/etc/weft/hosts"


# Containers this agent made without a link set and has given none since: their
# starts skip reading links.json back (an archive read costs the engine a mount).
# An agent restart forgets them, and then reads as before.
_BARE: set[str] = set()
_BARE_LOCK = threading.Lock()


def bare(container_id: str) -> None:
    """The container was just made without links: none is stored in it."""
    with _BARE_LOCK:
        _BARE.add(container_id)


def not_bare(container_id: str) -> None:
    """The container has a stored link set now, or was removed: forget it."""
    with _BARE_LOCK:
        _BARE.discard(container_id)


def inspect_managed(client: docker.DockerClient, name: str) -> dict[str, Any]:
    """Inspect data of a weft container (NotFound if absent, Conflict if not weft's)."""
    with translate(f"container {name}"):
        data: dict[str, Any] = client.api.inspect_container(name)
    if (data.get("Config", {}).get("Labels") or {}).get(L.MANAGED) != L.MANAGED_VALUE:
        raise Conflict(f"container {name} is not managed by weft", ["path", "name"])
    return data


def write_hosts(client: docker.DockerClient, data: dict[str, Any], lines: list[str]) -> bool:
    """Rewrite weft's block in the container's hosts file; False if not possible now."""
    running = bool(data["State"].get("Running"))
    path = data.get("HostsPath") or ""
    if path and os.path.isfile(path):
        # In place: the file is bind-mounted, a rename would detach it from the container.
        with open(path, "r+") as f:
            current = f.read()
            merged = F.merge_hosts(current, lines)
            if merged != current:
                f.seek(0)
                f.write(merged)
                f.truncate()
        return running
    if not running:
        return False
    current = read_file(client, data["Id"], "/etc/hosts") or ""
    merged = F.merge_hosts(current, lines)
    if merged != current:
        put_files(client, data["Id"], {_STAGED_HOSTS: (merged, 0o644)})
        exec_ok(client, data["Id"], ["sh", "-c", f"cat {_STAGED_HOSTS} > /etc/hosts"])
    return True


def apply_links(
    client: docker.DockerClient, data: dict[str, Any], links: list[LinkTarget]
) -> LinksState:
    """Write the link set into the container described by inspect `data`."""
    name = data["Name"].lstrip("/")
    env = F.link_env(name, links)
    not_bare(data["Id"])
    put_files(
        client,
        data["Id"],
        {
            F.ENV_PATH: (F.render_env_file(env), 0o644),
            F.JSON_PATH: (F.render_links_json(links), 0o644),
            F.WRAPPER_PATH: (F.WRAPPER_SCRIPT, 0o755),
            F.PROFILE_PATH: (F.PROFILE_SCRIPT, 0o644),
        },
    )
    lines = F.hosts_lines(links)
    applied = write_hosts(client, data, lines)
    return LinksState(name=name, links=links, env=env, hosts=lines, applied=applied)


def stored_links(client: docker.DockerClient, container_id: str) -> list[LinkTarget] | None:
    """The link set kept in the container's links.json, None if it never had one."""
    text = read_file(client, container_id, F.JSON_PATH)
    return None if text is None else F.parse_links_json(text)


def set_links(client: docker.DockerClient, name: str, links: list[LinkTarget]) -> LinksState:
    """Replace a weft container's link set (no restart)."""
    with NAME_LOCKS.hold(name):
        return apply_links(client, inspect_managed(client, name), links)


def get_links(client: docker.DockerClient, name: str) -> LinksState:
    """The link set stored in the container and the variables it yields."""
    data = inspect_managed(client, name)
    links = stored_links(client, data["Id"]) or []
    return LinksState(
        name=data["Name"].lstrip("/"),
        links=links,
        env=F.link_env(data["Name"].lstrip("/"), links),
        hosts=F.hosts_lines(links),
        applied=bool(data["State"].get("Running")),
    )


def reapply(client: docker.DockerClient, container_id: str) -> bool:
    """Re-apply the stored link set after the container (re)started; False if it has none."""
    with _BARE_LOCK:
        if container_id in _BARE:
            return False
    try:
        data = inspect_managed(client, container_id)
        with NAME_LOCKS.hold(data["Name"].lstrip("/")):
            links = stored_links(client, data["Id"])
            if links is None:
                return False
            apply_links(client, data, links)
    except AgentFailure as exc:
        log.warning("re-applying links of %s failed: %s", container_id[:12], exc)
        return False
    return True
