"""Containers: one container on one host, its spec and its observed state.

The spec types themselves live in `controlplane.contract.apitypes` (the CLI builds
its requests with them); here they become a table and the API's view of a row.
"""

from datetime import datetime

from pydantic import ConfigDict, Field
from sqlalchemy import UniqueConstraint
from sqlmodel import Field as SQLField
from sqlmodel import SQLModel

from controlplane.contract.apitypes import ContainerObserved, ContainerSpec, ResourceStatus
from controlplane.contract.schemas import LinkTarget
from controlplane.server.models.common import enum_column, json_column, utcnow


class ObservedRecord(ContainerObserved):
    """What the reconciler keeps about a container: what it saw, plus what it did.

    The two extra fields are the reconciler's own bookkeeping, not shown by the API.
    """

    # The link set last pushed to the agent (None: never, push it).
    links: list[LinkTarget] | None = None
    # The last restart generation carried out (see Container.restart_generation).
    restarted: int = 0

    def after(self, links: list[LinkTarget] | None, restarted: int | None) -> "ObservedRecord":
        """This record after pushing `links` and doing restart `restarted` (None: not done)."""
        return self.model_copy(
            update={
                "links": self.links if links is None else links,
                "restarted": self.restarted if restarted is None else restarted,
            }
        )

    def shown(self) -> ContainerObserved:
        """The part the API shows."""
        return ContainerObserved.model_validate(
            self.model_dump(include=set(ContainerObserved.model_fields))
        )


class Container(SQLModel, table=True):
    """A container's desired spec (JSON) plus what the reconciler last saw."""

    __tablename__ = "containers"
    __table_args__ = (UniqueConstraint("host_id", "name"), {"sqlite_autoincrement": True})

    id: int | None = SQLField(default=None, primary_key=True)
    name: str = SQLField(max_length=63)
    host_id: int = SQLField(foreign_key="hosts.id", index=True)
    spec: ContainerSpec = SQLField(sa_type=json_column(ContainerSpec))
    # Bumped by POST /containers/{id}/restart; the reconciler restarts until it catches up.
    restart_generation: int = 0
    # Bumped on every write: the reconciler only records a status for the generation it saw.
    generation: int = 0
    observed: ObservedRecord = SQLField(
        default_factory=ObservedRecord, sa_type=json_column(ObservedRecord)
    )
    status: ResourceStatus = SQLField(
        default=ResourceStatus.pending, sa_type=enum_column(ResourceStatus)
    )
    status_reason: str | None = SQLField(default=None, max_length=1000)
    # Failed attempts in a row (0 once it converges); the reason is in status_reason.
    failures: int = 0
    created_at: datetime = SQLField(default_factory=utcnow)
    updated_at: datetime = SQLField(default_factory=utcnow)


class ContainerPublic(ContainerSpec):
    """A container as the API shows it: spec, status and observed state."""

    model_config = ConfigDict(extra="ignore")

    id: int
    name: str
    host_id: int
    status: ResourceStatus
    status_reason: str | None
    failures: int = Field(0, description="Failed attempts in a row (0 once it converges).")
    observed: ContainerObserved = Field(default_factory=ContainerObserved)
    restart_generation: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: Container) -> "ContainerPublic":
        """Build from a table row."""
        return cls(
            **dict(row.spec),
            id=row.id or 0,
            name=row.name,
            host_id=row.host_id,
            status=row.status,
            status_reason=row.status_reason,
            failures=row.failures,
            observed=row.observed.shown(),
            restart_generation=row.restart_generation,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )
