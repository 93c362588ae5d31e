"""append-only access log

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

IMMUTABLE = "access log entries are immutable"


def upgrade() -> None:
    op.create_table(
        "access_log",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("agency", sa.String(64)),
        sa.Column("method", sa.String(8), nullable=False),
        sa.Column("path", sa.Text, nullable=False),
        sa.Column("status", sa.Integer, nullable=False),
        sa.Column("source", sa.String(64)),
    )
    if op.get_context().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION access_log_is_immutable() RETURNS trigger LANGUAGE plpgsql AS $$"
            f" BEGIN RAISE EXCEPTION '{IMMUTABLE}' USING ERRCODE = 'insufficient_privilege';"
            " END $$"
        )
        op.execute(
            "CREATE TRIGGER access_log_append_only BEFORE UPDATE OR DELETE ON access_log"
            " FOR EACH ROW EXECUTE FUNCTION access_log_is_immutable()"
        )
    else:
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER access_log_no_{action.lower()} BEFORE {action} ON access_log"
                f" BEGIN SELECT RAISE(ABORT, '{IMMUTABLE}'); END"
            )


def downgrade() -> None:
    op.drop_table("access_log")
    if op.get_context().dialect.name == "postgresql":
        op.execute("DROP FUNCTION access_log_is_immutable()")
