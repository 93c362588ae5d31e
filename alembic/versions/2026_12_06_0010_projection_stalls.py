"""a projection's tracking row says when the event after its position cannot be applied

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06
"""

import sqlalchemy as sa

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("projection_tracking", sa.Column("stalled_at", sa.BigInteger))
    op.add_column("projection_tracking", sa.Column("stall_error", sa.String(200)))


def downgrade() -> None:
    op.drop_column("projection_tracking", "stall_error")
    op.drop_column("projection_tracking", "stalled_at")
