"""keys carry a role; access log entries name the key and its role

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23
"""

import sqlalchemy as sa

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Keys made before roles existed were all CAD keys. Plain ADD COLUMN, not a batch copy:
    # a copy would drop the access log's append-only triggers.
    op.add_column("api_keys", sa.Column("role", sa.String(32), nullable=False, server_default="cad"))
    op.add_column("access_log", sa.Column("key_id", sa.String(12)))
    op.add_column("access_log", sa.Column("role", sa.String(32)))


def downgrade() -> None:
    op.drop_column("access_log", "role")
    op.drop_column("access_log", "key_id")
    op.drop_column("api_keys", "role")
