"""arrival time of responders

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("assistance_requests") as table:
        table.add_column(sa.Column("arrived_at", sa.DateTime(timezone=True)))


def downgrade() -> None:
    with op.batch_alter_table("assistance_requests") as table:
        table.drop_column("arrived_at")
