"""Networks: a bridge network on one host, or an overlay across a mesh of hosts.

An overlay names its mesh by one of its hosts (`host_id`, the anchor): it spans
the mesh that host is in now, or only the `hosts` listed (all in that mesh).
"""

import ipaddress
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, ValidationInfo, field_validator
from sqlalchemy import JSON, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from controlplane.contract.bounds import BodyId, Labels
from controlplane.server.models.common import Name, ResourceStatus, enum_column, utcnow


def check_gateway(subnet: str, gateway: str) -> str:
    """The gateway must be a usable host address inside subnet (not network/broadcast)."""
    net = ipaddress.ip_network(subnet, strict=True)
    gw = ipaddress.ip_address(gateway)
    if gw not in net:
        raise ValueError(f"gateway {gw} is not inside subnet {net}")
    if net.num_addresses > 2 and gw in (net.network_address, net.broadcast_address):
        raise ValueError(f"gateway {gw} is the network or broadcast address of {net}")
    return str(gw)


class NetworkBase(SQLModel):
    """What a user says about a network."""

    name: Name = Field(max_length=63)
    host_id: int = Field(foreign_key="hosts.id", index=True)
    driver: Literal["bridge", "overlay"] = Field(default="bridge", sa_type=String(16))
    subnet: str = Field(max_length=64, description="IPv4 CIDR, e.g. 10.42.0.0/24.")
    gateway: str | None = Field(
        default=None, max_length=64, description="Defaults to the subnet's first address."
    )
    labels: dict[str, str] = Field(default_factory=dict, sa_type=JSON)
    hosts: list[int] = Field(
        default_factory=list,
        sa_type=JSON,
        description="Overlay only: the hosts it spans (empty: every host of its mesh).",
    )
    encrypted: bool = Field(
        default=False,
        description="Overlay only: its VXLAN between hosts runs inside WireGuard tunnels "
        "(with the mesh password's pre-shared key when one is set).",
    )


class Network(NetworkBase, table=True):
    """A network's desired state plus what the reconciler last saw."""

    __tablename__ = "networks"
    __table_args__ = (UniqueConstraint("host_id", "name"), {"sqlite_autoincrement": True})

    id: int | None = Field(default=None, primary_key=True)
    status: ResourceStatus = Field(
        default=ResourceStatus.pending, sa_type=enum_column(ResourceStatus)
    )
    status_reason: str | None = Field(default=None, max_length=1000)
    # Failed attempts in a row (0 once it converges); the reason is in status_reason.
    failures: int = 0
    # Overlay only: the VXLAN id, unique across the control plane.
    vni: int | None = Field(default=None, unique=True)
    # Bumped on every write: the reconciler only records a status for the generation it saw.
    generation: int = 0
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class NetworkCreate(NetworkBase):
    """POST /networks."""

    model_config = ConfigDict(extra="forbid")  # type: ignore[assignment]

    host_id: BodyId | None = Field(  # type: ignore[assignment]
        default=None,
        description="A bridge's host; for an overlay, a host of the mesh it spans "
        "(needed only when there are several meshes and no `hosts`).",
    )
    subnet: str | None = Field(  # type: ignore[assignment]
        default=None,
        max_length=64,
        description="IPv4 CIDR. Required for a bridge; an overlay's defaults to a free "
        "/16 of 10.32.0.0/12.",
    )
    labels: Labels = Field(default_factory=dict)
    hosts: list[BodyId] = Field(default_factory=list, max_length=1000)

    @field_validator("hosts")
    @classmethod
    def _distinct(cls, value: list[int]) -> list[int]:
        if len(set(value)) != len(value):
            raise ValueError("a host is listed twice")
        return value

    @field_validator("subnet")
    @classmethod
    def _subnet(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            net = ipaddress.ip_network(value, strict=True)
        except ValueError as exc:
            raise ValueError(f"not a network address with prefix: {exc}") from None
        if net.version != 4 or net.prefixlen > 30:
            raise ValueError("an IPv4 subnet of /30 or larger is required")
        return str(net)

    @field_validator("gateway")
    @classmethod
    def _gateway(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None or info.data.get("subnet") is None:
            return value
        return check_gateway(info.data["subnet"], value)


class NetworkUpdate(BaseModel):
    """PATCH /networks/{id}: only labels may change (subnets are fixed at creation)."""

    model_config = ConfigDict(extra="forbid")

    labels: Labels | None = None


class NetworkPublic(NetworkBase):
    """A network as the API shows it."""

    id: int
    vni: int | None = None
    status: ResourceStatus
    status_reason: str | None
    failures: int = Field(0, description="Failed attempts in a row (0 once it converges).")
    created_at: datetime
    updated_at: datetime
