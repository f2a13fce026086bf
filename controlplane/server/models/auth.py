"""API tokens (stored hashed) and the control plane's own identity."""

from datetime import datetime
from typing import Literal

from sqlmodel import Field, SQLModel

from controlplane.server.models.common import Name, utcnow

Role = Literal["admin", "reader"]


class ApiToken(SQLModel, table=True):
    """A bearer token for the API; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"
    __table_args__ = {"sqlite_autoincrement": True}

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=63, unique=True)
    token_sha256: str = Field(max_length=64, unique=True, index=True)
    role: str = Field(default="admin", max_length=16, description="admin | reader")
    created_at: datetime = Field(default_factory=utcnow)


class TokenCreate(SQLModel):
    """POST /tokens: a named token with a role (readers may only read)."""

    name: Name = Field(max_length=63)
    role: Role = "reader"


class TokenPublic(SQLModel):
    """A token as the API lists it: never the secret, which is not stored."""

    id: int
    name: str
    role: str
    created_at: datetime


class TokenCreated(TokenPublic):
    """The answer to POST /tokens: the only time the token itself is shown."""

    token: str


class Meta(SQLModel, table=True):
    """Key/value facts about this control plane (its id, used as the weft.owner label)."""

    __tablename__ = "meta"

    key: str = Field(primary_key=True, max_length=63)
    value: str = Field(max_length=255)
