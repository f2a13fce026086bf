"""backoff: a repeated failure is one event with a count; resources count their failures

Revision ID: 0005_backoff
Revises: 0004_invariants
Create Date: 2026-11-30 06:05:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_backoff"
down_revision: str | None = "0004_invariants"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """events.count and events.last_at; containers.failures and networks.failures."""
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("count", sa.Integer(), nullable=False, server_default="1"))
        batch_op.add_column(sa.Column("last_at", sa.DateTime(timezone=True), nullable=True))
    for table in ("containers", "networks"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(
                sa.Column("failures", sa.Integer(), nullable=False, server_default="0")
            )


def downgrade() -> None:
    """Drop the four columns."""
    for table in ("containers", "networks"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("failures")
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_column("last_at")
        batch_op.drop_column("count")
