"""Links: inside `from`, `alias` resolves to `to`, with Docker-compatible env vars."""

from datetime import datetime

from pydantic import BaseModel, ConfigDict
from pydantic import Field as PField
from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from controlplane.contract.bounds import BodyId
from controlplane.server.models.common import utcnow

ALIAS_PATTERN = r"^[A-Za-z][A-Za-z0-9_.-]{0,62}$"


class Link(SQLModel, table=True):
    """A link between two containers (deleted with either end)."""

    __tablename__ = "links"
    __table_args__ = (UniqueConstraint("from_id", "alias"), {"sqlite_autoincrement": True})

    id: int | None = Field(default=None, primary_key=True)
    from_id: int = Field(foreign_key="containers.id", index=True, ondelete="CASCADE")
    to_id: int = Field(foreign_key="containers.id", index=True, ondelete="CASCADE")
    alias: str = Field(max_length=63)
    created_at: datetime = Field(default_factory=utcnow)


class LinkCreate(BaseModel):
    """POST /links: `from` reaches `to` as `alias`."""

    model_config = ConfigDict(populate_by_name=True, extra="forbid")

    from_id: BodyId = PField(alias="from", description="Container id that gets the alias.")
    to_id: BodyId = PField(alias="to", description="Container id the alias points at.")
    alias: str = PField(pattern=ALIAS_PATTERN, max_length=63)


class LinkPublic(BaseModel):
    """A link as the API shows it, with what `from` currently sees."""

    model_config = ConfigDict(populate_by_name=True)

    id: int
    from_id: int = PField(serialization_alias="from")
    to_id: int = PField(serialization_alias="to")
    alias: str
    address: str | None = PField(default=None, description="`to`'s current address, if known.")
    env: dict[str, str] = PField(default_factory=dict)
    created_at: datetime
