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

from controlplane.build.errors import BuildError
from controlplane.build.images import image_ref

LABEL = "weft.world"
STATE_DIR = Path("/var/lib/weft/world")


@dataclass(frozen=True)
class Names:
    """The names one world stack uses; tests run theirs beside a user's under another prefix."""

    prefix: str = "weft"

    @property
    def network(self) -> str:
        return f"{self.prefix}-world"

    @property
    def volume(self) -> str:
        return f"{self.prefix}-world-db"

    @property
    def db(self) -> str:
        return f"{self.prefix}-worlddb"

    @property
    def api(self) -> str:
        return f"{self.prefix}-searchapi"


class WorldError(BuildError):
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


def _password(names: Names) -> str:
    """The search account's password, made once and kept 0600 beside the stack's state."""
    STATE_DIR.mkdir(parents=True, exist_ok=True)
    path = STATE_DIR / f"{names.prefix}-db-password"
    if not path.exists():
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(24))
    return path.read_text().strip()


def _ensure_network(client: docker.DockerClient, names: Names) -> None:
    if not client.networks.list(names=[names.network]):
        client.networks.create(names.network, driver="bridge", labels={LABEL: names.prefix})


def _run(
    client: docker.DockerClient, names: Names, name: str, image: str, **kwargs: Any
) -> Container:
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
    return client.containers.run(
        image,
        name=name,
        detach=True,
        network=names.network,
        labels={LABEL: names.prefix, **kwargs.pop("labels", {})},
        restart_policy={"Name": "unless-stopped"},
        **kwargs,
    )


def _wait_healthy(container: Container, timeout: float) -> None:
    """Poll the container's health check until it passes, or fail with its last output."""
    deadline = time.monotonic() + timeout
    state: dict[str, Any] = {}
    while time.monotonic() < deadline:
        container.reload()
        state = container.attrs["State"]
        if state.get("Health", {}).get("Status") == "healthy":
            return
        if state.get("Status") == "exited":
            break
        time.sleep(1)
    logs = container.logs(tail=20).decode(errors="replace")
    checks = state.get("Health", {}).get("Log") or [{}]
    raise WorldError(
        f"{container.name} did not become healthy (state {state.get('Status')}, "
        f"health check said: {checks[-1].get('Output', '').strip()!r})",
        logs,
    )


def _address(container: Container, network: str) -> str:
    container.reload()
    return str(container.attrs["NetworkSettings"]["Networks"][network]["IPAddress"])


def up(
    port: int = 8080,
    client: docker.DockerClient | None = None,
    names: Names = Names(),
    labels: dict[str, str] | None = None,
) -> World:
    """Start (or keep) the world stack and print where it answers."""
    client = client or docker.from_env(timeout=300)
    password = _password(names)
    _ensure_network(client, names)
    db = _run(
        client,
        names,
        names.db,
        image_ref("worlddb"),
        environment={
            "WORLDDB_DATABASE": "world",
            "WORLDDB_USER": "search",
            "WORLDDB_PASSWORD": password,
        },
        volumes={names.volume: {"bind": "/var/lib/mysql", "mode": "rw"}},
        labels=labels or {},
    )
    print(f"weft: {names.db} started; it loads GeoNames on first start ...", flush=True)
    _wait_healthy(db, timeout=600)
    api = _run(
        client,
        names,
        names.api,
        image_ref("searchapi"),
        environment={
            "SEARCHAPI_DB_HOST": names.db,
            "SEARCHAPI_DB_USER": "search",
            "SEARCHAPI_DB_PASSWORD": password,
            "SEARCHAPI_DB_NAME": "world",
        },
        ports={"8080/tcp": ("127.0.0.1", port)},
        labels=labels or {},
    )
    _wait_healthy(api, timeout=120)
    world = World(port, names.network, _address(db, names.network), _address(api, names.network))
    _report(world, names)
    return world


def _report(world: World, names: Names) -> None:
    """Print what runs where, and the answer to the seed's own search."""
    with urllib.request.urlopen(f"{world.url}/cities?q=darwin", timeout=10) as resp:
        answer = json.load(resp)
    print(
        f"weft: network {world.network}: {names.db} at {world.db_address}:3306, "
        f"{names.api} at {world.api_address}:8080"
    )
    print(f"weft: GET {world.url}/cities?q=darwin ->")
    for item in answer["items"]:
        print(
            f"  {item['country']:<12} {item['name']:<14} "
            f"{item['latitude']:>10} {item['longitude']:>11}"
        )
    print(f"weft: search page  {world.url}/")
    print(f"weft: API docs     {world.url}/docs")


def down(client: docker.DockerClient | None = None, names: Names = Names()) -> None:
    """Remove the containers, network and volume `up` created."""
    client = client or docker.from_env(timeout=300)
    mine = {"label": f"{LABEL}={names.prefix}"}
    for container in client.containers.list(all=True, filters=mine):
        container.remove(force=True)
        print(f"weft: removed container {container.name}")
    for network in client.networks.list(filters=mine):
        network.remove()
        print(f"weft: removed network {network.name}")
    try:
        client.volumes.get(names.volume).remove(force=True)
        print(f"weft: removed volume {names.volume}")
    except docker.errors.NotFound:
        pass
    (STATE_DIR / f"{names.prefix}-db-password").unlink(missing_ok=True)
