"""Containers: one container on one host, its spec and its observed state."""

import ipaddress
import re
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from sqlalchemy import JSON, UniqueConstraint
from sqlmodel import Field as SQLField
from sqlmodel import SQLModel

from controlplane.server.models.common import NAME_PATTERN, Name, utcnow

PORT_RE = re.compile(r"^(\d{1,5})(?:/(tcp|udp))?$")


def parse_port(value: str) -> tuple[int, str]:
    """'3306/tcp' or '3306' -> (3306, 'tcp')."""
    m = PORT_RE.match(value)
    if not m or not 1 <= int(m.group(1)) <= 65535:
        raise ValueError(f"not a port like 3306/tcp: {value!r}")
    return int(m.group(1)), m.group(2) or "tcp"


class PortBinding(BaseModel):
    """Publish container_port/protocol on host_ip:host_port (host_port None: any free port)."""

    model_config = ConfigDict(extra="forbid")

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

    model_config = ConfigDict(extra="forbid")

    network: Name
    aliases: list[Name] = Field(default_factory=list)
    ipv4_address: str | None = None

    @field_validator("ipv4_address")
    @classmethod
    def _ip(cls, value: str | None) -> str | None:
        return None if value is None else str(ipaddress.IPv4Address(value))


class RestartPolicy(BaseModel):
    """Docker's restart policy."""

    model_config = ConfigDict(extra="forbid")

    name: Literal["no", "always", "unless-stopped", "on-failure"] = "no"
    maximum_retry_count: int = Field(default=0, ge=0)


class HealthCheck(BaseModel):
    """A health check command (Docker's CMD / CMD-SHELL form) and its timing."""

    model_config = ConfigDict(extra="forbid")

    test: list[str] = Field(min_length=1, description='e.g. ["CMD-SHELL", "curl -f ..."]')
    interval_s: float = Field(default=5.0, gt=0)
    timeout_s: float = Field(default=3.0, gt=0)
    retries: int = Field(default=3, ge=1)
    start_period_s: float = Field(default=0.0, ge=0)


class ContainerSpec(BaseModel):
    """Everything a user can say about a container (`docker run` options weft supports)."""

    model_config = ConfigDict(extra="forbid")

    image: str = Field(min_length=1, max_length=255)
    command: list[str] | None = None
    entrypoint: list[str] | None = None
    env: dict[str, str] = Field(default_factory=dict)
    exposed_ports: list[str] = Field(default_factory=list, description='e.g. ["3306/tcp"]')
    ports: list[PortBinding] = Field(default_factory=list)
    networks: list[NetworkAttachment] = Field(default_factory=list)
    network_mode: str = Field(
        default="bridge", description="bridge | host | none | container:<name>"
    )
    hostname: str | None = None
    restart_policy: RestartPolicy = Field(default_factory=RestartPolicy)
    healthcheck: HealthCheck | None = None
    labels: dict[str, str] = Field(default_factory=dict)
    dns: list[str] = Field(default_factory=list)
    dns_search: list[str] = Field(default_factory=list)
    stop_timeout_s: int = Field(default=10, ge=0, description="SIGTERM to SIGKILL on stop.")

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

    def all_exposed(self) -> list[str]:
        """Exposed ports plus the container side of published ports, sorted, no repeats."""
        ports = set(self.exposed_ports) | {f"{p.container_port}/{p.protocol}" for p in self.ports}
        return sorted(ports, key=lambda s: (int(s.split("/")[0]), s))


class InlineLink(BaseModel):
    """`--link to:alias` given with the container: recorded as a /links resource."""

    model_config = ConfigDict(extra="forbid")

    to: int = Field(description="Container id the alias points at.")
    alias: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_.-]{0,62}$")


class ContainerCreate(ContainerSpec):
    """POST /containers."""

    name: Name
    host_id: int
    links: list[InlineLink] = Field(
        default_factory=list,
        description="Links made with the container (like `docker run --link`), so their "
        "env vars are in its process environment from the start.",
    )


class ContainerUpdate(BaseModel):
    """PATCH /containers/{id}: fields given replace the spec's; the container is recreated."""

    model_config = ConfigDict(extra="forbid")

    image: str | None = Field(default=None, min_length=1, max_length=255)
    command: list[str] | None = None
    entrypoint: list[str] | None = None
    env: dict[str, str] | None = None
    exposed_ports: list[str] | None = None
    ports: list[PortBinding] | None = None
    networks: list[NetworkAttachment] | None = None
    network_mode: str | None = None
    hostname: str | None = None
    restart_policy: RestartPolicy | None = None
    healthcheck: HealthCheck | None = None
    labels: dict[str, str] | None = None
    dns: list[str] | None = None
    dns_search: list[str] | None = None
    stop_timeout_s: int | None = Field(default=None, ge=0)


class ContainerObserved(BaseModel):
    """What the agent last reported about the container."""

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
    ports: list[dict[str, Any]] = Field(
        default_factory=list, description="Published ports as bound: host_ip, host_port, ..."
    )


class Container(SQLModel, table=True):
    """A container's desired spec (JSON) plus what the reconciler last saw."""

    __tablename__ = "containers"
    __table_args__ = (UniqueConstraint("host_id", "name"),)

    id: int | None = SQLField(default=None, primary_key=True)
    name: str = SQLField(max_length=63)
    host_id: int = SQLField(foreign_key="hosts.id", index=True)
    spec: dict[str, Any] = SQLField(default_factory=dict, sa_type=JSON)
    # Bumped by POST /containers/{id}/restart; the reconciler restarts until it catches up.
    restart_generation: int = 0
    # Bumped on every write: the reconciler only records a status for the generation it saw.
    generation: int = 0
    observed: dict[str, Any] = SQLField(default_factory=dict, sa_type=JSON)
    status: str = SQLField(default="pending", max_length=16)
    status_reason: str | None = SQLField(default=None, max_length=1000)
    created_at: datetime = SQLField(default_factory=utcnow)
    updated_at: datetime = SQLField(default_factory=utcnow)

    def container_spec(self) -> ContainerSpec:
        """The stored spec, parsed."""
        return ContainerSpec.model_validate(self.spec)


class ContainerPublic(ContainerSpec):
    """A container as the API shows it: spec, status and observed state."""

    model_config = ConfigDict(extra="ignore")

    id: int
    name: str
    host_id: int
    status: str
    status_reason: str | None
    observed: ContainerObserved
    restart_generation: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: Container) -> "ContainerPublic":
        """Build from a table row."""
        return cls.model_validate(
            {
                **row.spec,
                "id": row.id,
                "name": row.name,
                "host_id": row.host_id,
                "status": row.status,
                "status_reason": row.status_reason,
                "observed": row.observed,
                "restart_generation": row.restart_generation,
                "created_at": row.created_at,
                "updated_at": row.updated_at,
            }
        )
