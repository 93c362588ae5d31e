"""officers in charge of a detail are listed among the officers responding (Kenosha IV.C.1)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06
"""

import sqlalchemy as sa

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

NOT_SENT = {"status": "in_charge", "involvement": []}

requests = sa.table(
    "assistance_requests",
    sa.column("incident_id", sa.Uuid),
    sa.column("number", sa.Integer),
    sa.column("officer_in_charge", sa.JSON),
)
officers = sa.table(
    "officers",
    sa.column("incident_id", sa.Uuid),
    sa.column("number", sa.Integer),
    sa.column("badge", sa.String),
    sa.column("name", sa.Text),
    sa.column("agency", sa.String),
    sa.column("rank", sa.Text),
    sa.column("status", sa.String),
    sa.column("involvement", sa.JSON),
)


def upgrade() -> None:
    """The projection now lists an officer in charge who is not among the officers sent
    when it applies the response; this lists those of the responses it applied before.
    Without their row, involvement recorded for one of them would stop the projection."""
    conn = op.get_bind()
    keys = sa.select(officers.c.incident_id, officers.c.number, officers.c.badge)
    listed = set(map(tuple, conn.execute(keys)))
    answered = conn.execute(sa.select(requests))
    missing = [
        {"incident_id": incident_id, "number": number, **in_charge, **NOT_SENT}
        for incident_id, number, in_charge in answered
        # None: no officer in charge (SQL NULL, or the JSON null older projections wrote)
        if in_charge is not None and (incident_id, number, in_charge["badge"]) not in listed
    ]
    if missing:
        conn.execute(sa.insert(officers), missing)


def downgrade() -> None:
    op.execute("DELETE FROM officers WHERE status = 'in_charge'")
