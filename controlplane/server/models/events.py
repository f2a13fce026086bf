"""Events: what the control plane did and how it went."""

from datetime import datetime

from sqlmodel import Field, SQLModel

from controlplane.server.models.common import utcnow


class EventBase(SQLModel):
    """One thing that happened to one resource."""

    resource: str = Field(max_length=32, index=True, description="host | network | container ...")
    resource_id: int | None = Field(default=None, index=True)
    resource_name: str | None = Field(default=None, max_length=255)
    host_id: int | None = Field(default=None, index=True)
    action: str = Field(max_length=32, description="create | recreate | remove | ...")
    result: str = Field(max_length=16, description="ok | failed | requested")
    reason: str | None = Field(default=None, max_length=2000)
    count: int = Field(
        default=1, description="Times it happened in a row (a repeated failure is one event)."
    )


class Event(EventBase, table=True):
    """A stored event."""

    __tablename__ = "events"
    __table_args__ = {"sqlite_autoincrement": True}

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    last_at: datetime | None = Field(default=None, description="When it last happened again.")


class EventPublic(EventBase):
    """An event as the API shows it."""

    id: int
    at: datetime
    last_at: datetime | None = None
