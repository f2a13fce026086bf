"""Wire schemas of the agent API, shared by the agent and `controlplane.server.agentclient`.

Stability: the control plane codes against these models. Fields are only ever
added (with defaults, so older peers still parse); changes are noted here.

Links (the control plane's `/links`), how they stay current
------------------------------------------------------------
Docker's `--link` writes a hosts entry and env vars once, at creation; the env
vars go stale when the target restarts with a new address, and the target must
already run. weft does it differently, per container `A` that links to others:

1. The control plane sends A's link set, `[LinkTarget(alias, name, address,
   ports)]`, in `ContainerSpec.links` at creation and again with
   `PUT /v1/containers/{A}/links` whenever a target's address changes. The link
   set is NOT part of the spec hash, so a new address never recreates A.
2. The agent rewrites a delimited block (`# weft links begin` / `# weft links end`)
   in A's `/etc/hosts`, keeping Docker's own entries: `address alias` per target
   that has an address. It writes through the hosts file's path on the host
   (`docker inspect` HostsPath, a bind mount, rewritten in place) and falls back
   to `docker exec` when the agent cannot see Docker's data root.
3. The agent writes `/etc/weft/links.env` inside A (Docker-compatible variables:
   `ALIAS_NAME`, `ALIAS_PORT`, `ALIAS_PORT_3306_TCP`, `..._ADDR`, `..._PORT`,
   `..._PROTO`, one group per port), `/etc/profile.d/weft-links.sh` (so login
   shells such as `docker exec A sh -lc env` see current values), the executable
   wrapper `/etc/weft/with-links CMD...` (runs CMD with the current values), and
   `/etc/weft/links.json` (the link set itself).
4. The same variables are real env vars of A's process, from creation time:
   a running process's environment cannot change. A process that needs current
   values reads `/etc/weft/links.env`, or is started through `with-links`, or
   resolves the alias (the hosts entry is always current).
5. Docker rebuilds `/etc/hosts` whenever A starts. The agent watches the
   engine's start events for weft containers and re-applies the link set stored
   in A's `/etc/weft/links.json`, so a restart of A (by Docker's restart policy
   too) keeps its links without the control plane doing anything.

Targets without an address (not running yet) are left out of hosts and env until
a later `PUT .../links` gives one; links may be circular. A container in
`container:X` mode shares X's hosts file, so its links land there too.

Other ensure details: a `container:X` container whose X was recreated is
recreated too (the engine pins X's id); `running=False` creates without
starting and never stops a running container; an image that is not on the
host is a 409 `urn:weft:problem:image-missing` (upload it, retry) and leaves
an existing container alone; a taken host port is a 409.
"""

import ipaddress
from datetime import datetime
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from controlplane.contract.bounds import (
    MAX_STOP_TIMEOUT_S,
    Args,
    Count,
    Duration,
    Env,
    Hostname,
    ImageRef,
    Labels,
    PositiveDuration,
    SearchDomains,
    Text,
)
from controlplane.contract.labels import spec_hash

Protocol = Literal["tcp", "udp", "sctp"]
ContainerStatus = Literal[
    "created",
    "running",
    "starting",
    "healthy",
    "unhealthy",
    "restarting",
    "paused",
    "exited",
    "dead",
    "removing",
]
Health = Literal["none", "starting", "healthy", "unhealthy"]
# The statuses of a running container: a health check folds its result into the status.
RUNNING_STATES: frozenset[str] = frozenset({"running", "starting", "healthy", "unhealthy"})
EnsureAction = Literal["created", "unchanged", "started", "recreated"]
NAME_PATTERN = r"^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$"
Name = Annotated[str, Field(pattern=NAME_PATTERN, description="A Docker object name.")]
ALIAS_PATTERN = r"^[a-zA-Z0-9]([a-zA-Z0-9_.-]{0,62})$"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- errors -----------------------------------------------------------------------


class ProblemError(BaseModel):
    """One field or path at fault: `loc` as in pydantic (e.g. ["body", "ports", 0])."""

    loc: list[str | int] = Field(default_factory=list)
    msg: str

    @property
    def where(self) -> str:
        """The location as a dotted path, e.g. `body.subnet`."""
        return ".".join(str(p) for p in self.loc)


class Problem(BaseModel):
    """RFC 9457 problem details, the body of every error the agent returns."""

    model_config = ConfigDict(extra="allow")

    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    errors: list[ProblemError] = Field(default_factory=list)

    @classmethod
    def of_response(cls, status: int, reason: str, body: str) -> "Problem":
        """The problem an error response's body carries; any other body becomes the detail."""
        try:
            return cls.model_validate_json(body)
        except ValidationError:  # not JSON, or JSON but not a problem
            return cls(title=reason or "error", status=status, detail=body.strip()[:500] or None)


# --- info -------------------------------------------------------------------------


class AgentInfo(BaseModel):
    """What `GET /v1/info` says about the host, its engine and the agent."""

    hostname: str
    agent_version: str
    owner: str
    docker_version: str
    docker_api_version: str
    os: str = ""
    kernel_version: str = ""
    addresses: list[str] = Field(default_factory=list, description="Underlay IPs (global).")
    cpus: int
    memory_bytes: int
    engine_id: str = Field(
        "", max_length=128, description="The Docker engine's ID (one engine is one host)."
    )


class Liveness(BaseModel):
    """`GET /healthz`: liveness only, open without credentials."""

    status: Literal["ok"] = "ok"


# --- networks ---------------------------------------------------------------------


class NetworkSpec(_Model):
    """`PUT /v1/networks/{name}`: a bridge network as it should be on this host.

    If a network of that name exists with a different configuration it is
    recreated when no container is attached, otherwise the call fails with 409.
    """

    driver: Literal["bridge"] = "bridge"
    subnet: str | None = Field(None, description="CIDR, e.g. 10.20.0.0/24.")
    gateway: str | None = None
    ip_range: str | None = Field(None, description="CIDR inside subnet to allocate from.")
    internal: bool = False
    mtu: int | None = Field(None, ge=576, le=65535)
    bridge_name: str | None = Field(
        None, max_length=15, description="Linux bridge device (com.docker.network.bridge.name)."
    )
    options: dict[str, str] = Field(default_factory=dict, description="Extra driver options.")
    labels: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _addresses_fit(self) -> "NetworkSpec":
        if self.subnet is None:
            if self.gateway or self.ip_range:
                raise ValueError("gateway and ip_range need a subnet")
            return self
        net = ipaddress.ip_network(self.subnet, strict=True)
        if self.gateway and ipaddress.ip_address(self.gateway) not in net:
            raise ValueError(f"gateway {self.gateway} is outside subnet {self.subnet}")
        if self.ip_range and not ipaddress.ip_network(self.ip_range).subnet_of(net):  # type: ignore[arg-type]
            raise ValueError(f"ip_range {self.ip_range} is outside subnet {self.subnet}")
        return self


class NetworkState(BaseModel):
    """A network as the engine reports it."""

    name: str
    id: str
    driver: str
    subnet: str | None = None
    gateway: str | None = None
    ip_range: str | None = None
    internal: bool = False
    options: dict[str, str] = Field(default_factory=dict)
    labels: dict[str, str] = Field(default_factory=dict)
    containers: list[str] = Field(default_factory=list, description="Attached container names.")


class EngineNetwork(BaseModel):
    """Any network the engine has (weft's or not): only its name and subnets."""

    name: str
    subnets: list[str] = Field(default_factory=list)
    owner: str | None = Field(None, description="The weft control plane that made it, if one did.")


class VolumeState(BaseModel):
    """A named volume as the engine reports it."""

    name: str
    driver: str = "local"
    labels: dict[str, str] = Field(default_factory=dict)
    in_use_by: list[str] = Field(default_factory=list, description="Container names using it.")


class NetworkEnsureResult(BaseModel):
    """Result of `PUT /v1/networks/{name}`."""

    action: Literal["created", "unchanged", "recreated"]
    network: NetworkState


# --- containers -------------------------------------------------------------------


class PortSpec(_Model):
    """A container port, e.g. 3306/tcp."""

    port: int = Field(ge=1, le=65535)
    protocol: Protocol = "tcp"


class PublishedPort(_Model):
    """`-p host_ip:host_port:container_port/protocol`; host_port None picks a free one."""

    container_port: int = Field(ge=1, le=65535)
    protocol: Protocol = "tcp"
    host_ip: str = ""
    host_port: int | None = Field(None, ge=1, le=65535)


class NetworkAttachment(_Model):
    """A user-defined network the container joins, with aliases and an optional fixed IP."""

    name: Name
    aliases: list[Annotated[str, Field(pattern=ALIAS_PATTERN)]] = Field(
        default_factory=list, max_length=100
    )
    ipv4_address: str | None = None


class RestartPolicy(_Model):
    """Docker restart policy."""

    name: Literal["no", "always", "unless-stopped", "on-failure"] = "no"
    maximum_retry_count: Count = 0


class HealthCheck(_Model):
    """Docker health check; `test` as in the engine API, e.g. ["CMD-SHELL", "curl -f ..."]."""

    test: Args = Field(min_length=1)
    interval_s: PositiveDuration = 30.0
    timeout_s: PositiveDuration = 30.0
    retries: Count = 3
    start_period_s: Duration = 0.0


class Mount(_Model):
    """A volume (named, created with weft's labels if missing), bind or tmpfs mount."""

    type: Literal["volume", "bind", "tmpfs"] = "volume"
    source: str = ""
    target: str
    read_only: bool = False


class LinkTarget(_Model):
    """One link of a container: `alias` reaches container `name` at `address`.

    `address` is None while the target has none (not running yet): the link is
    kept, but no hosts entry or env var is written for it until an address comes.
    `ports` are the target's exposed ports; each gets a `ALIAS_PORT_<p>_<PROTO>`
    group of env vars, and the lowest one also `ALIAS_PORT`.
    """

    alias: str = Field(pattern=ALIAS_PATTERN)
    name: str = Field(description="The target container's name (for ALIAS_NAME).")
    address: str | None = None
    ports: list[PortSpec] = Field(default_factory=list)

    @field_validator("address")
    @classmethod
    def _is_ip(cls, value: str | None) -> str | None:
        if value is not None:
            ipaddress.ip_address(value)
        return value


class ContainerSpec(_Model):
    """`PUT /v1/containers/{name}`: the container as it should be.

    Ensure semantics: absent → create and start; present with the same spec hash
    → left as is (started if it is stopped and `running` is true); different hash
    → stopped, removed, recreated. The hash (`spec_hash`, or the agent computes
    `ContainerSpec.computed_hash()`) covers every field except `links`,
    `spec_hash` and `running`. `links` are applied without recreating (see the
    module docstring); their env vars are added to `env` at creation, `env` wins
    on a clash.
    """

    image: ImageRef
    command: Args | None = None
    entrypoint: Args | None = None
    env: Env = Field(default_factory=dict)
    labels: Labels = Field(default_factory=dict)
    exposed_ports: list[PortSpec] = Field(default_factory=list)
    published_ports: list[PublishedPort] = Field(default_factory=list)
    networks: list[NetworkAttachment] = Field(
        default_factory=list, description="User-defined networks; only with network_mode bridge."
    )
    network_mode: str = Field(
        "bridge", pattern=r"^(bridge|host|none|container:[a-zA-Z0-9][a-zA-Z0-9_.-]*)$"
    )
    restart_policy: RestartPolicy = Field(default_factory=RestartPolicy)
    healthcheck: HealthCheck | None = None
    dns: list[str] = Field(default_factory=list, description="DNS servers.")
    dns_search: SearchDomains = Field(default_factory=list)
    extra_hosts: list[str] = Field(
        default_factory=list, description='Static "name:ip" entries (not for links).'
    )
    hostname: Hostname | None = None
    working_dir: Text | None = None
    user: Text | None = None
    mounts: list[Mount] = Field(default_factory=list)
    stop_timeout_s: int = Field(10, ge=0, le=MAX_STOP_TIMEOUT_S)
    init: bool = Field(False, description="Run an init (docker --init) as PID 1.")
    running: bool = Field(True, description="Whether it should run (False: create only).")
    links: list[LinkTarget] = Field(default_factory=list)
    spec_hash: str | None = Field(None, description="The caller's hash; else the agent's.")

    @model_validator(mode="after")
    def _mode_fits(self) -> "ContainerSpec":
        if self.network_mode != "bridge":
            if self.networks:
                raise ValueError(
                    f"networks cannot be combined with network_mode {self.network_mode}"
                )
            if self.published_ports and self.network_mode != "bridge":
                raise ValueError(
                    f"published_ports need network_mode bridge, not {self.network_mode}"
                )
        if self.network_mode.startswith("container:") and (self.dns or self.hostname):
            raise ValueError("dns and hostname come from the other container in container: mode")
        for entry in self.extra_hosts:
            host, sep, addr = entry.partition(":")
            if not sep or not host:
                raise ValueError(f'extra_hosts entry {entry!r} is not "name:ip"')
            ipaddress.ip_address(addr)
        return self

    def computed_hash(self) -> str:
        """The spec hash the agent labels the container with (links and state excluded)."""
        return self.spec_hash or spec_hash(self, exclude={"links", "spec_hash", "running"})


class NetworkEndpoint(BaseModel):
    """Where a container sits on one network."""

    ip_address: str | None = None
    gateway: str | None = None
    mac_address: str | None = None
    aliases: list[str] = Field(default_factory=list)


class PortBinding(BaseModel):
    """A published port as bound by the engine."""

    container_port: int
    protocol: str
    host_ip: str
    host_port: int


class ContainerState(BaseModel):
    """A managed container as the engine reports it."""

    name: str
    id: str
    image: str
    status: ContainerStatus = Field(description="running+health folded: healthy/unhealthy/...")
    running: bool
    health: Health = "none"
    exit_code: int | None = None
    error: str | None = None
    created_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    restart_count: int = 0
    spec_hash: str | None = None
    network_mode: str = Field("", description="As the engine records it: container:<id>.")
    networks: dict[str, NetworkEndpoint] = Field(default_factory=dict)
    ports: list[PortBinding] = Field(default_factory=list)
    labels: dict[str, str] = Field(default_factory=dict)


class ContainerEnsureResult(BaseModel):
    """Result of `PUT /v1/containers/{name}`."""

    action: EnsureAction
    container: ContainerState


class LinksSpec(_Model):
    """`PUT /v1/containers/{name}/links`: the container's whole link set (replaces it)."""

    links: list[LinkTarget] = Field(default_factory=list)


class LinksState(BaseModel):
    """The link set applied to a container, and what it produced.

    `applied` is False when the container is not running and its hosts file
    could not be written; the set is stored and applied when it starts.
    """

    name: str
    links: list[LinkTarget] = Field(default_factory=list)
    env: dict[str, str] = Field(default_factory=dict, description="Contents of links.env.")
    hosts: list[str] = Field(default_factory=list, description="The hosts lines weft owns.")
    applied: bool = True


class Logs(BaseModel):
    """`GET /v1/containers/{name}/logs?tail=N`: stdout and stderr, interleaved."""

    name: str
    tail: int | None = None
    text: str


# --- images -----------------------------------------------------------------------


class ImageLoadResult(BaseModel):
    """Result of `PUT /v1/images` (a `docker save` tarball in the body)."""

    tags: list[str] = Field(default_factory=list)
    ids: list[str] = Field(default_factory=list)


class ImageInfo(BaseModel):
    """`GET /v1/images/{ref}`: an image present on the host."""

    id: str
    tags: list[str] = Field(default_factory=list)
    size: int = 0
    created: str | None = None
