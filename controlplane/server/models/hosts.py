"""Hosts: a Docker host and the agent that drives it."""

from datetime import datetime

from pydantic import AnyHttpUrl, BaseModel, ConfigDict
from sqlalchemy import JSON
from sqlmodel import Field, SQLModel

from controlplane.contract.bounds import HeaderToken, Labels
from controlplane.server.models.common import HostStatus, Name, enum_column, utcnow


class HostBase(SQLModel):
    """What a user says about a host."""

    name: Name = Field(max_length=63, unique=True, index=True)
    agent_url: str = Field(max_length=255, description="Base URL of the host's weft agent.")
    labels: dict[str, str] = Field(default_factory=dict, sa_type=JSON)


class Host(HostBase, table=True):
    """A registered host (the agent credential is stored, never returned)."""

    __tablename__ = "hosts"
    # Ids are never reused (SQLite needs AUTOINCREMENT for that; see 0004_invariants).
    __table_args__ = {"sqlite_autoincrement": True}

    id: int | None = Field(default=None, primary_key=True)
    # Sealed (see controlplane.server.sealing): a 512-character token takes ~790.
    agent_token: str = Field(max_length=1024)
    status: HostStatus = Field(default=HostStatus.ready, sa_type=enum_column(HostStatus))
    status_reason: str | None = Field(default=None, max_length=1000)
    last_seen: datetime | None = None
    hostname: str | None = Field(default=None, max_length=255)
    docker_version: str | None = Field(default=None, max_length=64)
    addresses: list[str] = Field(default_factory=list, sa_type=JSON)
    # The Docker engine's ID: one engine is one host (two reconcilers on one engine
    # would remove each other's containers as strays).
    engine_id: str | None = Field(default=None, max_length=128, unique=True, index=True)
    # Bumped by every write that must see the host's other resources as they are
    # (ports, subnets, addresses): the row lock serialises those writes.
    write_lock: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    # The host's WireGuard public key as its agent reported it; set while the host
    # has a tunnel (an encrypted overlay spans it), None otherwise.
    wg_public_key: str | None = Field(default=None, max_length=64)
    created_at: datetime = Field(default_factory=utcnow)


class HostCreate(HostBase):
    """POST /hosts: the agent is called with this URL and token before anything is stored."""

    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    agent_url: AnyHttpUrl  # type: ignore[assignment]
    agent_token: HeaderToken
    labels: Labels = Field(default_factory=dict)


class HostUpdate(BaseModel):
    """PATCH /hosts/{id}."""

    model_config = ConfigDict(extra="forbid")

    labels: Labels | None = None
    agent_token: HeaderToken | None = None


class HostPublic(HostBase):
    """A host as the API shows it."""

    id: int
    status: HostStatus
    status_reason: str | None
    last_seen: datetime | None
    hostname: str | None
    docker_version: str | None
    addresses: list[str]
    created_at: datetime
