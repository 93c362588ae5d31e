"""the access log holds every method the HTTP parser accepts (UNSUBSCRIBE has 11 letters)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06
"""

import sqlalchemy as sa

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # SQLite does not enforce a column's length, and cannot alter one in place.
    if op.get_context().dialect.name == "postgresql":
        op.alter_column("access_log", "method", type_=sa.String(16))


def downgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        op.alter_column("access_log", "method", type_=sa.String(8))
