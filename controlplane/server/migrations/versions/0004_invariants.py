"""invariants: ids never reused on SQLite, one engine per host, per-host write lock

Revision ID: 0004_invariants
Revises: 0003_multihost
Create Date: 2026-11-30 04:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_invariants"
down_revision: str | None = "0003_multihost"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Tables whose ids users see (in paths, in events' resource_id). Without AUTOINCREMENT,
# SQLite hands out max(id) + 1, so deleting the newest row gives its id to the next
# one, and old events then point at a different resource. PostgreSQL's sequences and
# MariaDB's (persistent since 10.2) AUTO_INCREMENT never go back.
TABLES = ("api_tokens", "events", "hosts", "networks", "containers", "links", "peerings")


def upgrade() -> None:
    """hosts.engine_id (unique) and hosts.write_lock; SQLite tables rebuilt with AUTOINCREMENT."""
    with op.batch_alter_table("hosts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("engine_id", sa.String(length=128), nullable=True))
        batch_op.add_column(
            sa.Column("write_lock", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.create_index(batch_op.f("ix_hosts_engine_id"), ["engine_id"], unique=True)
    if op.get_bind().dialect.name != "sqlite":
        return
    # Rebuilt as copy, drop, rename: `db.upgrade` turns SQLite's foreign keys off for
    # the run, so the drop neither cascades into links nor is refused.
    for table in TABLES:
        with op.batch_alter_table(
            table, recreate="always", table_kwargs={"sqlite_autoincrement": True}
        ):
            pass


def downgrade() -> None:
    """Drop the hosts columns (SQLite keeps AUTOINCREMENT: harmless)."""
    with op.batch_alter_table("hosts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_hosts_engine_id"))
        batch_op.drop_column("write_lock")
        batch_op.drop_column("engine_id")
