"""verbs: a host's exposed address on an overlay is an IPAM address with no container

Revision ID: 0008_verbs
Revises: 0007_encrypt
Create Date: 2026-11-30 09:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_verbs"
down_revision: str | None = "0007_encrypt"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

AUTOINCREMENT = {"sqlite_autoincrement": True}


def upgrade() -> None:
    """overlay_addresses.container_id nullable; exposed (true, or NULL for a container),
    unique per network and host: one exposed address per host and overlay."""
    with op.batch_alter_table("overlay_addresses", table_kwargs=AUTOINCREMENT) as batch_op:
        batch_op.alter_column("container_id", existing_type=sa.Integer(), nullable=True)
        batch_op.add_column(sa.Column("exposed", sa.Boolean(), nullable=True))
        batch_op.create_unique_constraint(
            "uq_overlay_addresses_exposed", ["network_id", "host_id", "exposed"]
        )


def downgrade() -> None:
    """Drop the exposed addresses, then the column and the constraint."""
    op.execute("DELETE FROM overlay_addresses WHERE container_id IS NULL")
    with op.batch_alter_table("overlay_addresses", table_kwargs=AUTOINCREMENT) as batch_op:
        batch_op.drop_constraint("uq_overlay_addresses_exposed", type_="unique")
        batch_op.drop_column("exposed")
        batch_op.alter_column("container_id", existing_type=sa.Integer(), nullable=False)
