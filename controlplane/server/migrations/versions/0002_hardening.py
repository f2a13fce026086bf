"""hardening: agent tokens are stored sealed, which takes more room

Revision ID: 0002_hardening
Revises: 0001
Create Date: 2026-11-30 03:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_hardening"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Widen hosts.agent_token for sealed tokens (the server seals plaintext ones on start)."""
    with op.batch_alter_table("hosts", schema=None) as batch_op:
        batch_op.alter_column(
            "agent_token",
            existing_type=sa.String(length=512),
            type_=sa.String(length=1024),
            existing_nullable=False,
        )


def downgrade() -> None:
    """Back to 512 characters (sealed tokens must be unsealed first: not done here)."""
    with op.batch_alter_table("hosts", schema=None) as batch_op:
        batch_op.alter_column(
            "agent_token",
            existing_type=sa.String(length=1024),
            type_=sa.String(length=512),
            existing_nullable=False,
        )
