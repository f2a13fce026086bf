"""multihost: peerings between hosts

Revision ID: 0003_multihost
Revises: 0003_stacks
Create Date: 2026-11-30 03:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_multihost"
down_revision: str | None = "0003_stacks"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """The peerings table (a pair of hosts, stored lowest id first, and its last check)."""
    op.create_table(
        "peerings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("host_a_id", sa.Integer(), nullable=False),
        sa.Column("host_b_id", sa.Integer(), nullable=False),
        sa.Column("last_check", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["host_a_id"], ["hosts.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["host_b_id"], ["hosts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("host_a_id", "host_b_id"),
    )
    with op.batch_alter_table("peerings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_peerings_host_a_id"), ["host_a_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_peerings_host_b_id"), ["host_b_id"], unique=False)


def downgrade() -> None:
    """Drop the peerings table."""
    with op.batch_alter_table("peerings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_peerings_host_b_id"))
        batch_op.drop_index(batch_op.f("ix_peerings_host_a_id"))
    op.drop_table("peerings")
