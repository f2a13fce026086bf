"""Peerings: `weave connect A B` as a resource, and what the agents measured of it."""

from datetime import datetime

from pydantic import BaseModel, ConfigDict
from pydantic import Field as PField
from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from controlplane.server.models.common import json_column, utcnow


class PeeringCheck(BaseModel):
    """The last measurement of a peering, by both ends' agents (nothing is assumed)."""

    model_config = ConfigDict(frozen=True)

    reachable: bool = PField(description="Each end's agent reached the other over the underlay.")
    datapath: str = PField(description="vxlan (kernel VXLAN over the underlay).")
    encrypted: bool = False
    mtu: int | None = PField(None, description="The overlay MTU this peering allows.")
    rtt_ms: float | None = None
    reason: str | None = PField(None, description="Why it is not reachable.")
    checked_at: datetime


class Peering(SQLModel, table=True):
    """Two hosts joined directly (ids stored lowest first; removed with either host)."""

    __tablename__ = "peerings"
    __table_args__ = (UniqueConstraint("host_a_id", "host_b_id"), {"sqlite_autoincrement": True})

    id: int | None = Field(default=None, primary_key=True)
    host_a_id: int = Field(foreign_key="hosts.id", index=True, ondelete="CASCADE")
    host_b_id: int = Field(foreign_key="hosts.id", index=True, ondelete="CASCADE")
    last_check: PeeringCheck | None = Field(default=None, sa_type=json_column(PeeringCheck))
    created_at: datetime = Field(default_factory=utcnow)


class PeeringCreate(BaseModel):
    """POST /peerings: join hosts `a` and `b` (either order; both must be registered)."""

    model_config = ConfigDict(extra="forbid")

    a: int = PField(description="A host id.")
    b: int = PField(description="Another host id.")


class PeeringPublic(BaseModel):
    """A peering as the API shows it."""

    id: int
    a: int
    b: int
    a_name: str
    b_name: str
    last_check: PeeringCheck | None
    created_at: datetime


class PeerStatus(BaseModel):
    """One other host of a host's mesh, measured from that host now."""

    host_id: int
    name: str
    address: str | None
    direct: bool = PField(description="Joined by a peering of its own (else through others).")
    peering_id: int | None = None
    reachable: bool
    datapath: str
    encrypted: bool
    mtu: int | None
    rtt_ms: float | None = None
    reason: str | None = None
    checked_at: datetime


class HostPeers(BaseModel):
    """GET /hosts/{id}/peers: `weave status peers` for one host."""

    host_id: int
    name: str
    mesh: list[str] = PField(description="Every host of its mesh, itself included, by name.")
    peers: list[PeerStatus]
