"""encrypt: networks.encrypted (VXLAN inside WireGuard) and hosts.wg_public_key

Revision ID: 0007_encrypt
Revises: 0006_overlay
Create Date: 2026-11-30 09:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_encrypt"
down_revision: str | None = "0006_overlay"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# SQLite rebuilds a table to alter it: keep its ids never reused (see 0004_invariants).
AUTOINCREMENT = {"sqlite_autoincrement": True}


def upgrade() -> None:
    """networks.encrypted (false for every network so far) and hosts.wg_public_key."""
    with op.batch_alter_table("networks", table_kwargs=AUTOINCREMENT) as batch_op:
        batch_op.add_column(
            sa.Column("encrypted", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("hosts", table_kwargs=AUTOINCREMENT) as batch_op:
        batch_op.add_column(sa.Column("wg_public_key", sa.String(length=64), nullable=True))


def downgrade() -> None:
    """Drop both columns."""
    with op.batch_alter_table("hosts", table_kwargs=AUTOINCREMENT) as batch_op:
        batch_op.drop_column("wg_public_key")
    with op.batch_alter_table("networks", table_kwargs=AUTOINCREMENT) as batch_op:
        batch_op.drop_column("encrypted")
