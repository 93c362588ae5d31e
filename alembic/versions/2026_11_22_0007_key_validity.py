"""keys are valid until a moment (revocation, expiry, rotation)

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("api_keys") as table:
        table.alter_column("revoked_at", new_column_name="valid_until")


def downgrade() -> None:
    with op.batch_alter_table("api_keys") as table:
        table.alter_column("valid_until", new_column_name="revoked_at")
