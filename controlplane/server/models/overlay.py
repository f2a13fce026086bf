"""Central IPAM of overlay networks: each host's blocks of a subnet, each container's address.

The failure these tables exist to prevent: one address handed out twice on an
overlay (two hosts share its L2 segment). Both rules are unique constraints, so
they hold whoever writes and however many write at once: a block of a network
belongs to one host, and an address of a network to one container.
"""

from pydantic import BaseModel
from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from controlplane.contract.dns import DnsRecord


class OverlayBlock(SQLModel, table=True):
    """One aligned block of an overlay's subnet, held by one host."""

    __tablename__ = "overlay_blocks"
    __table_args__ = (UniqueConstraint("network_id", "block"), {"sqlite_autoincrement": True})

    id: int | None = Field(default=None, primary_key=True)
    network_id: int = Field(foreign_key="networks.id", index=True, ondelete="CASCADE")
    host_id: int = Field(foreign_key="hosts.id", index=True, ondelete="CASCADE")
    block: str = Field(max_length=64)


class OverlayAddress(SQLModel, table=True):
    """A container's address on an overlay (from a block of its host), or the host's own.

    The host's own (`weave expose`) has no container and `exposed` true; a container's
    has `exposed` NULL, which a unique constraint never compares, so the third rule
    (one exposed address per host and overlay) holds in the database too.
    """

    __tablename__ = "overlay_addresses"
    __table_args__ = (
        UniqueConstraint("network_id", "address"),
        UniqueConstraint("network_id", "container_id"),
        UniqueConstraint("network_id", "host_id", "exposed", name="uq_overlay_addresses_exposed"),
        {"sqlite_autoincrement": True},
    )

    id: int | None = Field(default=None, primary_key=True)
    network_id: int = Field(foreign_key="networks.id", index=True, ondelete="CASCADE")
    container_id: int | None = Field(
        default=None, foreign_key="containers.id", index=True, ondelete="CASCADE"
    )
    host_id: int = Field(foreign_key="hosts.id", index=True, ondelete="CASCADE")
    address: str = Field(max_length=64)
    exposed: bool | None = None


class HostRecords(BaseModel):
    """`GET /dns`: the `*.weave.local` records one host serves (its mesh's)."""

    host_id: int
    name: str
    domain: str
    ttl: int
    records: list[DnsRecord]


class IpamBlock(BaseModel):
    """A block of an overlay's subnet and the host holding it."""

    host_id: int
    host: str
    block: str


class IpamAddress(BaseModel):
    """A container's address on an overlay, or the host's own (no container: exposed)."""

    container_id: int | None
    container: str | None
    host_id: int
    host: str
    address: str


class NetworkIpam(BaseModel):
    """`GET /ipam`: one overlay's subnet, blocks per host and addresses."""

    network_id: int
    name: str
    subnet: str
    vni: int | None
    blocks: list[IpamBlock]
    addresses: list[IpamAddress]
