"""`weft world up/down`: the world stack on this host's Docker engine.

The database (weft/worlddb) and the search API (weft/searchapi) on one
user-defined bridge network, the API published on a host port. Everything it
creates carries the `weft.world` label, so `down` removes exactly that.
"""

import json
import secrets
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker
import docker.errors
from docker.models.containers import Container

from controlplane.images.build import image_ref

LABEL = "weft.world"
NETWORK = "weft-world"
VOLUME = "weft-world-db"
DB = "weft-worlddb"
API = "weft-searchapi"
STATE_DIR = Path("/var/lib/weft/world")


class WorldError(RuntimeError):
    """The world stack did not come up; the message says which part and why."""


@dataclass(frozen=True)
class World:
    """Where the started stack answers."""

    port: int
    network: str
    db_address: str
    api_address: str

    @property
    def url(self) -> str:
        """The search API's base URL on this host."""
        return f"http://127.0.0.1:{self.port}"


def _password() -> str:
    """The search account's password, made once and kept 0600 beside the stack's state."""
    STATE_DIR.mkdir(parents=True, exist_ok=True)
    path = STATE_DIR / "db-password"
    if not path.exists():
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(24))
    return path.read_text().strip()


def _ensure_network(client: docker.DockerClient) -> None:
    if not client.networks.list(names=[NETWORK]):
        client.networks.create(NETWORK, driver="bridge", labels={LABEL: "1"})


def _run(client: docker.DockerClient, name: str, image: str, **kwargs: Any) -> Container:
    """Start `name` from `image`, replacing a container of that name made from another image."""
    try:
        existing = client.containers.get(name)
    except docker.errors.NotFound:
        existing = None
    if existing is not None:
        if existing.image is not None and existing.image.id == client.images.get(image).id:
            if existing.status != "running":
                existing.start()
            return existing
        existing.remove(force=True)
    labels = {LABEL: "1"}
    return client.containers.run(
        image, name=name, detach=True, network=NETWORK, labels=labels,
        restart_policy={"Name": "unless-stopped"}, **kwargs,
    )


def _wait_healthy(container: Container, timeout: float) -> None:
    """Poll the container's health check until it passes, or fail with its last output."""
    deadline = time.monotonic() + timeout
    state: dict[str, Any] = {}
    while time.monotonic() < deadline:
        container.reload()
        state = container.attrs["State"]
        health = state.get("Health", {}).get("Status")
        if health == "healthy":
            return
        if state.get("Status") == "exited":
            break
        time.sleep(1)
    logs = container.logs(tail=20).decode(errors="replace")
    log = state.get("Health", {}).get("Log") or [{}]
    raise WorldError(
        f"{container.name} did not become healthy (state {state.get('Status')}, "
        f"health check said: {log[-1].get('Output', '').strip()!r})\n{logs}"
    )


def _address(container: Container) -> str:
    container.reload()
    return str(container.attrs["NetworkSettings"]["Networks"][NETWORK]["IPAddress"])


def up(port: int = 8080, client: docker.DockerClient | None = None) -> World:
    """Start (or keep) the world stack and print where it answers."""
    client = client or docker.from_env(timeout=300)
    password = _password()
    _ensure_network(client)
    db = _run(
        client,
        DB,
        image_ref("worlddb"),
        environment={"WORLDDB_DATABASE": "world", "WORLDDB_USER": "search",
                     "WORLDDB_PASSWORD": password},
        volumes={VOLUME: {"bind": "/var/lib/mysql", "mode": "rw"}},
    )
    print(f"weft: {DB} started, loading GeoNames (countries and cities1000) ...", flush=True)
    _wait_healthy(db, timeout=600)
    api = _run(
        client,
        API,
        image_ref("searchapi"),
        environment={"SEARCHAPI_DB_HOST": DB, "SEARCHAPI_DB_USER": "search",
                     "SEARCHAPI_DB_PASSWORD": password, "SEARCHAPI_DB_NAME": "world"},
        ports={"8080/tcp": ("127.0.0.1", port)},
    )
    _wait_healthy(api, timeout=120)
    world = World(port, NETWORK, _address(db), _address(api))
    _report(world)
    return world


def _report(world: World) -> None:
    """Print what runs where, and the answer to the seed's own search."""
    with urllib.request.urlopen(f"{world.url}/cities?q=darwin", timeout=10) as resp:
        answer = json.load(resp)
    print(f"weft: network {world.network}: {DB} at {world.db_address}:3306, "
          f"{API} at {world.api_address}:8080")
    print(f"weft: GET {world.url}/cities?q=darwin ->")
    for item in answer["items"]:
        print(f"  {item['country']:<12} {item['name']:<14} "
              f"{item['latitude']:>10} {item['longitude']:>11}")
    print(f"weft: search page  {world.url}/")
    print(f"weft: API docs     {world.url}/docs")


def down(client: docker.DockerClient | None = None) -> None:
    """Remove the containers, network and volume `up` created."""
    client = client or docker.from_env(timeout=300)
    for container in client.containers.list(all=True, filters={"label": LABEL}):
        container.remove(force=True)
        print(f"weft: removed container {container.name}")
    for network in client.networks.list(filters={"label": LABEL}):
        network.remove()
        print(f"weft: removed network {network.name}")
    try:
        client.volumes.get(VOLUME).remove(force=True)
        print(f"weft: removed volume {VOLUME}")
    except docker.errors.NotFound:
        pass
