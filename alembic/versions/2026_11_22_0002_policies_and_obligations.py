"""policy decisions and obligations

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("incidents") as table:
        table.add_column(sa.Column("scene_management", sa.String(32)))
        table.add_column(
            sa.Column("open_obligations", sa.Integer, nullable=False, server_default="0")
        )
    with op.batch_alter_table("assistance_requests") as table:
        table.add_column(
            sa.Column("arrestee_transport", sa.Boolean, nullable=False, server_default=sa.false())
        )
        for name in (
            "requested_under",
            "request_exception",
            "approved_under",
            "responded_under",
            "response_exception",
        ):
            table.add_column(sa.Column(name, sa.JSON))
    op.create_table(
        "obligations",
        sa.Column("incident_id", sa.Uuid, primary_key=True),
        sa.Column("number", sa.Integer, primary_key=True),
        sa.Column("party", sa.String(64), nullable=False, index=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("recipients", sa.JSON, nullable=False),
        sa.Column("outstanding", sa.JSON, nullable=False),
        sa.Column("rule", sa.JSON, nullable=False),
        sa.Column("request_number", sa.Integer),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("met_at", sa.DateTime(timezone=True)),
        sa.Column("fulfilments", sa.JSON, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("obligations")
    with op.batch_alter_table("assistance_requests") as table:
        for name in (
            "response_exception",
            "responded_under",
            "approved_under",
            "request_exception",
            "requested_under",
            "arrestee_transport",
        ):
            table.drop_column(name)
    with op.batch_alter_table("incidents") as table:
        table.drop_column("open_obligations")
        table.drop_column("scene_management")
