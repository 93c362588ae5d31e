"""parties: each agency's incidents in list order

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-23
"""

import sqlalchemy as sa

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "parties",
        sa.Column("agency", sa.String(64), primary_key=True),
        sa.Column("incident_id", sa.Uuid, primary_key=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_parties_page", "parties", ["agency", "opened_at", "incident_id"])
    op.execute(
        "INSERT INTO parties (agency, incident_id, role, opened_at)"
        " SELECT requesting_agency, incident_id, 'requester', opened_at FROM incidents"
    )
    op.execute(
        "INSERT INTO parties (agency, incident_id, role, opened_at)"
        " SELECT DISTINCT r.agency, r.incident_id, 'responder', i.opened_at"
        " FROM assistance_requests r JOIN incidents i ON i.incident_id = r.incident_id"
    )


def downgrade() -> None:
    op.drop_table("parties")
