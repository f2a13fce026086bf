"""Stacks: a whole application from a compose file, kept with the file it came from."""

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Field as SQLField
from sqlmodel import SQLModel

from controlplane.server.models.common import enum_column, json_column, utcnow
from controlplane.stacks.spec import StackSpec

STACK_NAME_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,39}$"


class StackStatus(StrEnum):
    """Where a stack stands: a deploy ends converged or failed, never silently."""

    # Desired state written; services are being created in depends_on order.
    deploying = "deploying"
    # Every replica runs as its file says (and its dependents' conditions hold).
    converged = "converged"
    # A service could not be brought up; status_reason and each service say why.
    failed = "failed"
    # DELETE asked for; containers, networks (and volumes) are being removed.
    removing = "removing"


class StackSource(BaseModel):
    """What the user sent: the compose file as text, its variables and env files."""

    model_config = ConfigDict(frozen=True)

    compose: str
    variables: dict[str, str] = Field(default_factory=dict)
    env_files: dict[str, str] = Field(default_factory=dict)


class StackPlacement(BaseModel):
    """Where each service's replicas go (host names, by replica) and each network's driver."""

    model_config = ConfigDict(frozen=True)

    services: dict[str, list[str]] = Field(default_factory=dict)
    drivers: dict[str, str] = Field(default_factory=dict)


class Stack(SQLModel, table=True):
    """A stack's source, its parsed spec, its placement and where its deploy stands."""

    __tablename__ = "stacks"
    __table_args__ = {"sqlite_autoincrement": True}

    id: int | None = SQLField(default=None, primary_key=True)
    name: str = SQLField(max_length=40, unique=True, index=True)
    source: StackSource = SQLField(sa_type=json_column(StackSource))
    spec: StackSpec = SQLField(sa_type=json_column(StackSpec))
    placement: StackPlacement = SQLField(sa_type=json_column(StackPlacement))
    status: StackStatus = SQLField(default=StackStatus.deploying, sa_type=enum_column(StackStatus))
    status_reason: str | None = SQLField(default=None, max_length=2000)
    # Bumped on every deploy or update: the deployer records results for the one it saw.
    generation: int = 1
    remove_volumes: bool = False
    created_at: datetime = SQLField(default_factory=utcnow)
    updated_at: datetime = SQLField(default_factory=utcnow)


class StackCreate(BaseModel):
    """POST /stacks (JSON form): a name and the compose file, as YAML text or as JSON."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(
        default=None,
        pattern=STACK_NAME_PATTERN,
        description="Overrides the file's top-level `name` (like `docker compose -p`).",
    )
    compose: str | dict[str, Any] = Field(
        description="The compose file: its YAML text, or the same document as JSON."
    )
    variables: dict[str, str] = Field(
        default_factory=dict,
        description="Values for `${VAR}` in the file (the server has no shell environment).",
    )
    env_files: dict[str, str] = Field(
        default_factory=dict, description="Contents of the files `env_file:` names, by path."
    )


class ServiceState(BaseModel):
    """One service of a stack as it runs now."""

    name: str
    image: str
    desired: int = Field(description="Replicas the file asks for.")
    running: int = Field(description="Replicas running now (and healthy, if checked).")
    hosts: list[str]
    state: str = Field(description="pending | running | completed | failed")
    last_error: str | None = None


class StackPublic(BaseModel):
    """A stack as the API shows it (variables by name only: they may hold secrets)."""

    id: int
    name: str
    status: StackStatus
    status_reason: str | None
    generation: int
    compose: str
    variables: list[str]
    services: list[ServiceState]
    networks: dict[str, str] = Field(description="Network -> driver (bridge or overlay).")
    created_at: datetime
    updated_at: datetime
