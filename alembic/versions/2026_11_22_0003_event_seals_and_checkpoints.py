"""event seals and signed checkpoints

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "event_seals",
        sa.Column("position", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("originator_id", sa.String(36), nullable=False),
        sa.Column("originator_version", sa.Integer, nullable=False),
        sa.Column("previous_hash", sa.String(64), nullable=False),
        sa.Column("event_hash", sa.String(64), nullable=False),
        sa.Column("log_digest", sa.String(64), nullable=False),
        sa.UniqueConstraint("originator_id", "originator_version"),
    )
    op.create_table(
        "checkpoints",
        sa.Column("position", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("log_digest", sa.String(64), nullable=False),
        sa.Column("signed_at", sa.String(40), nullable=False),
        sa.Column("public_key", sa.String(64), nullable=False),
        sa.Column("signature", sa.String(128), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("checkpoints")
    op.drop_table("event_seals")
