"""a key's end only moves earlier, and a key is rotated once

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07
"""

import sqlalchemy as sa

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

REFUSED = "api keys are never extended, revived or reassigned"
# The row as an update may leave it: the same key, agency, role, label and creation; an end
# no later than before (a key without an end may get one); rotated at most once.
CHANGED = (
    "NEW.key_hash IS NOT OLD.key_hash OR NEW.agency IS NOT OLD.agency"
    " OR NEW.role IS NOT OLD.role OR NEW.label IS NOT OLD.label"
    " OR NEW.created_at IS NOT OLD.created_at"
    " OR (OLD.valid_until IS NOT NULL"
    " AND (NEW.valid_until IS NULL OR NEW.valid_until > OLD.valid_until))"
    " OR (OLD.rotated_at IS NOT NULL AND NEW.rotated_at IS NOT OLD.rotated_at)"
)


def upgrade() -> None:
    # Plain ADD COLUMN: a batch copy would drop the table's triggers.
    op.add_column("api_keys", sa.Column("rotated_at", sa.DateTime(timezone=True)))
    if op.get_context().dialect.name == "postgresql":
        changed = CHANGED.replace(" IS NOT ", " IS DISTINCT FROM ")
        op.execute(
            "CREATE FUNCTION api_keys_end_only_earlier() RETURNS trigger LANGUAGE plpgsql AS $$"
            f" BEGIN IF {changed} THEN"
            f" RAISE EXCEPTION '{REFUSED}' USING ERRCODE = 'insufficient_privilege';"
            " END IF; RETURN NEW; END $$"
        )
        op.execute(
            "CREATE TRIGGER api_keys_end_only_earlier BEFORE UPDATE ON api_keys"
            " FOR EACH ROW EXECUTE FUNCTION api_keys_end_only_earlier()"
        )
    else:
        op.execute(
            "CREATE TRIGGER api_keys_end_only_earlier BEFORE UPDATE ON api_keys"
            f" WHEN {CHANGED} BEGIN SELECT RAISE(ABORT, '{REFUSED}'); END"
        )


def downgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        op.execute("DROP TRIGGER api_keys_end_only_earlier ON api_keys")
        op.execute("DROP FUNCTION api_keys_end_only_earlier()")
    else:
        op.execute("DROP TRIGGER api_keys_end_only_earlier")
    op.drop_column("api_keys", "rotated_at")
