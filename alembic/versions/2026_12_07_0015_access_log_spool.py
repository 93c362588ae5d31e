"""access log entries that waited in the spool while the database was away carry its id

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06
"""

import sqlalchemy as sa

from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN, not a batch copy: a copy would drop the append-only triggers.
    op.add_column("access_log", sa.Column("spool_id", sa.String(32)))
    op.create_index("ix_access_log_spool_id", "access_log", ["spool_id"], unique=True)


def downgrade() -> None:
    op.drop_index("ix_access_log_spool_id", "access_log")
    op.drop_column("access_log", "spool_id")
