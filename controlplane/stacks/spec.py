"""A stack as weft understands it: the compose file mapped to weft's own types.

`compose.py` produces a `StackSpec` from a compose file; placement, ordering and
the control plane's deploy all read this, never the raw compose dict.
"""

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class Frozen(BaseModel):
    """Immutable, no unknown fields: specs are compared and hashed."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Condition(StrEnum):
    """When a dependent may start (compose's `depends_on.<svc>.condition`)."""

    STARTED = "service_started"
    HEALTHY = "service_healthy"
    COMPLETED = "service_completed_successfully"


class Port(Frozen):
    """Publish `target/protocol` on `host_ip:published` (published None: any free port)."""

    target: int = Field(ge=1, le=65535)
    published: int | None = Field(default=None, ge=1, le=65535)
    host_ip: str = "0.0.0.0"
    protocol: Literal["tcp", "udp"] = "tcp"


class Health(Frozen):
    """A health check in Docker's form: CMD or CMD-SHELL, or ("NONE",) to switch it off."""

    test: tuple[str, ...]
    interval_s: float = 30.0
    timeout_s: float = 30.0
    retries: int = 3
    start_period_s: float = 0.0

    def disabled(self) -> bool:
        """Whether this switches health checking off (compose's `disable: true`)."""
        return self.test == ("NONE",)


class Attachment(Frozen):
    """The service on one of the stack's networks, with extra aliases."""

    network: str
    aliases: tuple[str, ...] = ()
    ipv4_address: str | None = None


class Link(Frozen):
    """`links: [service:alias]`: the service reaches `service` as `alias`."""

    service: str
    alias: str


class Mount(Frozen):
    """A named volume of the stack mounted at `target`."""

    volume: str
    target: str
    read_only: bool = False


class Constraint(Frozen):
    """`node.hostname == h1` or `node.labels.zone != b`."""

    field: str = Field(description="hostname, or labels.<key>")
    equal: bool
    value: str

    def matches(self, hostname: str, labels: dict[str, str]) -> bool:
        """Whether a host with this name and these labels satisfies the constraint."""
        if self.field == "hostname":
            actual: str | None = hostname
        else:
            actual = labels.get(self.field.removeprefix("labels."))
        return (actual == self.value) == self.equal

    def __str__(self) -> str:
        return f"node.{self.field} {'==' if self.equal else '!='} {self.value}"


class Restart(Frozen):
    """Docker's restart policy."""

    name: Literal["no", "always", "unless-stopped", "on-failure"] = "no"
    maximum_retry_count: int = 0


class ServiceSpec(Frozen):
    """One service: what each of its containers runs, where, and after what."""

    name: str
    image: str
    command: tuple[str, ...] | None = None
    entrypoint: tuple[str, ...] | None = None
    environment: dict[str, str] = Field(default_factory=dict)
    labels: dict[str, str] = Field(default_factory=dict)
    ports: tuple[Port, ...] = ()
    expose: tuple[str, ...] = Field(default=(), description='e.g. ("3306/tcp",)')
    networks: tuple[Attachment, ...] = ()
    links: tuple[Link, ...] = ()
    hostname: str | None = None
    network_mode: str = Field(default="bridge", description="bridge | host | none | service:X")
    restart: Restart = Field(default_factory=Restart)
    healthcheck: Health | None = None
    depends_on: dict[str, Condition] = Field(default_factory=dict)
    replicas: int = Field(default=1, ge=0)
    global_mode: bool = Field(default=False, description="one replica on every eligible host")
    constraints: tuple[Constraint, ...] = ()
    volumes: tuple[Mount, ...] = ()
    dns: tuple[str, ...] = ()
    dns_search: tuple[str, ...] = ()
    stop_timeout_s: int | None = None

    def shares_namespace_with(self) -> str | None:
        """The service whose network namespace this one joins (`network_mode: service:X`)."""
        return self.network_mode.removeprefix("service:") if self.is_namespace_guest() else None

    def is_namespace_guest(self) -> bool:
        """Whether network_mode is `service:X`."""
        return self.network_mode.startswith("service:")


class NetworkSpec(Frozen):
    """A network of the stack; `driver` None lets placement pick bridge or overlay."""

    name: str = Field(description="the name in the compose file")
    driver: Literal["bridge", "overlay"] | None = None
    subnet: str | None = None
    encrypted: bool = False


class VolumeSpec(Frozen):
    """A named volume of the stack (local driver)."""

    name: str


class StackSpec(Frozen):
    """A whole stack: its services, networks and volumes, by name."""

    name: str
    services: dict[str, ServiceSpec]
    networks: dict[str, NetworkSpec] = Field(default_factory=dict)
    volumes: dict[str, VolumeSpec] = Field(default_factory=dict)
