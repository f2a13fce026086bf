"""The control plane's REST API types that the CLI shares: names, statuses, containers.

The control plane validates requests and stores container specs with these models;
the CLI builds its request bodies and reads the answers with them. Pure pydantic,
so importing this module pulls in neither the server nor its database layer.
"""

import ipaddress
import re
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any, Literal, Optional, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    create_model,
    field_validator,
    model_validator,
)
from pydantic.fields import FieldInfo

from controlplane.contract.bounds import (
    MAX_STOP_TIMEOUT_S,
    Args,
    BodyId,
    Count,
    Duration,
    Env,
    Hostname,
    ImageRef,
    Labels,
    PositiveDuration,
    SearchDomains,
)

# Docker's own rule for container and network names.
NAME_PATTERN = r"^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$"
Name = Annotated[str, StringConstraints(pattern=NAME_PATTERN)]
PORT_RE = re.compile(r"^(\d{1,5})(?:/(tcp|udp))?$")

M = TypeVar("M", bound=BaseModel)


class ResourceStatus(StrEnum):
    """Where a network or container stands against its desired state."""

    # Desired state recorded, not yet converged.
    pending = "pending"
    # The host matches it.
    converged = "converged"
    # The last attempt failed (status_reason says why; retried with backoff).
    failed = "failed"


class HostStatus(StrEnum):
    """Whether a host's agent answered the last call."""

    ready = "ready"
    unreachable = "unreachable"


def parse_port(value: str) -> tuple[int, str]:
    """'3306/tcp' or '3306' -> (3306, 'tcp')."""
    m = PORT_RE.match(value)
    if not m or not 1 <= int(m.group(1)) <= 65535:
        raise ValueError(f"not a port like 3306/tcp: {value!r}")
    return int(m.group(1)), m.group(2) or "tcp"


class PortBinding(BaseModel):
    """Publish container_port/protocol on host_ip:host_port (host_port None: any free port)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    container_port: int = Field(ge=1, le=65535)
    protocol: Literal["tcp", "udp"] = "tcp"
    host_ip: str = "0.0.0.0"
    host_port: int | None = Field(default=None, ge=1, le=65535)

    @field_validator("host_ip")
    @classmethod
    def _ip(cls, value: str) -> str:
        return str(ipaddress.ip_address(value))


class NetworkAttachment(BaseModel):
    """Attach to a weft network of the same host, by name, with aliases and an optional IP."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    network: Name
    aliases: list[Name] = Field(default_factory=list, max_length=100)
    ipv4_address: str | None = None

    @field_validator("ipv4_address")
    @classmethod
    def _ip(cls, value: str | None) -> str | None:
        return None if value is None else str(ipaddress.IPv4Address(value))


class RestartPolicy(BaseModel):
    """Docker's restart policy."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Literal["no", "always", "unless-stopped", "on-failure"] = "no"
    maximum_retry_count: Count = 0


class HealthCheck(BaseModel):
    """A health check command (Docker's CMD / CMD-SHELL form) and its timing."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    test: Args = Field(min_length=1, description='e.g. ["CMD-SHELL", "curl -f ..."]')
    interval_s: PositiveDuration = 5.0
    timeout_s: PositiveDuration = 3.0
    retries: Count = Field(default=3, ge=1)
    start_period_s: Duration = 0.0


class VolumeMount(BaseModel):
    """A named volume on the container's host, mounted at `target` (made if missing).

    Only named volumes: a host path mounted through the API would give whoever
    holds a token the host's files.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    volume: Name
    target: str = Field(pattern=r"^/[^\x00]*$", max_length=4096, description="Absolute path.")
    read_only: bool = False


class ContainerSpec(BaseModel):
    """Everything a user can say about a container (`docker run` options weft supports).

    Frozen: the control plane stores it in a JSON column, and only a new value
    assigned to the row is written back.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    image: ImageRef
    command: Args | None = None
    entrypoint: Args | None = None
    env: Env = Field(default_factory=dict)
    exposed_ports: list[str] = Field(
        default_factory=list, max_length=1000, description='e.g. ["3306/tcp"]'
    )
    ports: list[PortBinding] = Field(default_factory=list, max_length=1000)
    networks: list[NetworkAttachment] = Field(default_factory=list, max_length=100)
    network_mode: str = Field(
        default="bridge", description="bridge | host | none | container:<name>"
    )
    hostname: Hostname | None = None
    restart_policy: RestartPolicy = Field(default_factory=RestartPolicy)
    healthcheck: HealthCheck | None = None
    labels: Labels = Field(default_factory=dict)
    dns: list[str] = Field(default_factory=list, max_length=16)
    dns_search: SearchDomains = Field(default_factory=list)
    stop_timeout_s: int = Field(
        default=10, ge=0, le=MAX_STOP_TIMEOUT_S, description="SIGTERM to SIGKILL on stop."
    )
    volumes: list[VolumeMount] = Field(default_factory=list, max_length=100)

    @field_validator("exposed_ports")
    @classmethod
    def _exposed(cls, values: list[str]) -> list[str]:
        return [f"{p}/{proto}" for p, proto in (parse_port(v) for v in values)]

    @field_validator("network_mode")
    @classmethod
    def _mode(cls, value: str) -> str:
        if value in ("bridge", "host", "none"):
            return value
        if value.startswith("container:") and re.match(NAME_PATTERN, value[10:]):
            return value
        raise ValueError("must be bridge, host, none or container:<name>")

    @field_validator("dns")
    @classmethod
    def _dns(cls, values: list[str]) -> list[str]:
        return [str(ipaddress.ip_address(v)) for v in values]

    @model_validator(mode="after")
    def _mode_fits(self) -> "ContainerSpec":
        if self.network_mode != "bridge" and self.networks:
            raise ValueError("networks can only be given with network_mode bridge")
        if self.network_mode != "bridge" and self.ports:
            raise ValueError(f"ports cannot be published with network_mode {self.network_mode}")
        names = [a.network for a in self.networks]
        if len(names) != len(set(names)):
            raise ValueError("a network is listed twice")
        return self

    def all_exposed(self) -> list[tuple[int, str]]:
        """Exposed ports plus the container side of published ports, sorted, no repeats."""
        ports = {parse_port(p) for p in self.exposed_ports}
        ports |= {(p.container_port, p.protocol) for p in self.ports}
        return sorted(ports)

    def shared_stack(self) -> str | None:
        """X when the container joins container X's network stack (`container:X`)."""
        mode, sep, name = self.network_mode.partition(":")
        return name if sep and mode == "container" else None

    def attached_networks(self) -> list[str]:
        """Docker network names the container sits on ("bridge" for the default bridge)."""
        if self.networks:
            return [a.network for a in self.networks]
        return ["bridge"] if self.network_mode == "bridge" else []

    def with_changes(self, changes: "SpecChanges") -> "ContainerSpec":
        """This spec with the fields `changes` gives replaced, validated as a whole."""
        return ContainerSpec.model_validate(
            {**self.model_dump(), **changes.model_dump(exclude_unset=True)}
        )


class InlineLink(BaseModel):
    """`--link to:alias` given with the container: recorded as a /links resource."""

    model_config = ConfigDict(extra="forbid")

    to: BodyId = Field(description="Container id the alias points at.")
    alias: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_.-]{0,62}$")


class ContainerCreate(ContainerSpec):
    """POST /containers."""

    name: Name
    host_id: BodyId
    links: list[InlineLink] = Field(
        default_factory=list,
        description="Links made with the container (like `docker run --link`), so their "
        "env vars are in its process environment from the start.",
    )

    def spec(self) -> ContainerSpec:
        """The container's spec alone (without name, host and links)."""
        return ContainerSpec.model_validate(
            self.model_dump(include=set(ContainerSpec.model_fields))
        )


class SpecChanges(BaseModel):
    """Some fields of a spec, each replacing the spec's whole field (what PATCH takes)."""

    model_config = ConfigDict(extra="forbid")


def changes_of(model: type[BaseModel], name: str, doc: str) -> type[SpecChanges]:
    """A `SpecChanges` model with every field of `model`, optional, constraints kept.

    The spec's cross-field checks run when the changes are applied (`with_changes`),
    on the merged spec, so a renamed or added spec field needs no second edit here.
    """
    fields: dict[str, Any] = {}
    for field, info in model.model_fields.items():
        kept = Annotated[info.annotation, *info.metadata] if info.metadata else info.annotation
        fields[field] = (Optional[kept], FieldInfo(default=None, description=info.description))  # noqa: UP045 -- a runtime type, not an annotation
    made = create_model(name, __base__=SpecChanges, __doc__=doc, **fields)
    made.__module__ = __name__
    return made


if TYPE_CHECKING:
    # mypy cannot see fields made at run time; code reads them only through `with_changes`.
    ContainerUpdate = SpecChanges
else:
    ContainerUpdate = changes_of(
        ContainerSpec,
        "ContainerUpdate",
        "PATCH /containers/{id}: fields given replace the spec's; the container is recreated.",
    )


class BoundPort(BaseModel):
    """A published port as the engine bound it."""

    model_config = ConfigDict(frozen=True)

    container_port: int
    protocol: str
    host_ip: str
    host_port: int


class ContainerObserved(BaseModel):
    """What the agent last reported about the container."""

    model_config = ConfigDict(frozen=True)

    state: str | None = Field(default=None, description="created | running | exited | ...")
    health: str | None = Field(default=None, description="starting | healthy | unhealthy")
    exit_code: int | None = None
    docker_id: str | None = None
    addresses: dict[str, str] = Field(
        default_factory=dict, description="Network name -> IPv4 address."
    )
    gateways: dict[str, str] = Field(
        default_factory=dict, description="Network name -> its gateway (the host, seen from here)."
    )
    spec_hash: str | None = None
    ports: list[BoundPort] = Field(
        default_factory=list, description="Published ports as bound: host_ip, host_port, ..."
    )
