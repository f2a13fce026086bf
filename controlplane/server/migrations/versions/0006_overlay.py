"""overlay: overlay networks (hosts, vni) and their central IPAM (blocks, addresses)

Revision ID: 0006_overlay
Revises: 0005_backoff
Create Date: 2026-11-30 06:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_overlay"
down_revision: str | None = "0005_backoff"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# SQLite rebuilds a table to alter it: keep its ids never reused (see 0004_invariants).
AUTOINCREMENT = {"sqlite_autoincrement": True}


def _refs() -> list[sa.ForeignKeyConstraint]:
    return [
        sa.ForeignKeyConstraint(["network_id"], ["networks.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["host_id"], ["hosts.id"], ondelete="CASCADE"),
    ]


def upgrade() -> None:
    """networks.hosts and networks.vni (unique); overlay_blocks and overlay_addresses."""
    with op.batch_alter_table("networks", table_kwargs=AUTOINCREMENT) as batch_op:
        batch_op.add_column(sa.Column("hosts", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("vni", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_networks_vni"), ["vni"], unique=True)
    op.execute("UPDATE networks SET hosts = '[]'")
    with op.batch_alter_table("networks", table_kwargs=AUTOINCREMENT) as batch_op:
        batch_op.alter_column("hosts", existing_type=sa.JSON(), nullable=False)
    op.create_table(
        "overlay_blocks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("network_id", sa.Integer(), nullable=False),
        sa.Column("host_id", sa.Integer(), nullable=False),
        sa.Column("block", sa.String(length=64), nullable=False),
        *_refs(),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("network_id", "block"),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "overlay_addresses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("network_id", sa.Integer(), nullable=False),
        sa.Column("container_id", sa.Integer(), nullable=False),
        sa.Column("host_id", sa.Integer(), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        *_refs(),
        sa.ForeignKeyConstraint(["container_id"], ["containers.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("network_id", "address"),
        sa.UniqueConstraint("network_id", "container_id"),
        sqlite_autoincrement=True,
    )
    for table, columns in (
        ("overlay_blocks", ("network_id", "host_id")),
        ("overlay_addresses", ("network_id", "container_id", "host_id")),
    ):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in columns:
                batch_op.create_index(batch_op.f(f"ix_{table}_{column}"), [column], unique=False)


def downgrade() -> None:
    """Drop the IPAM tables and the networks columns."""
    op.drop_table("overlay_addresses")
    op.drop_table("overlay_blocks")
    with op.batch_alter_table("networks", table_kwargs=AUTOINCREMENT) as batch_op:
        batch_op.drop_index(batch_op.f("ix_networks_vni"))
        batch_op.drop_column("vni")
        batch_op.drop_column("hosts")
