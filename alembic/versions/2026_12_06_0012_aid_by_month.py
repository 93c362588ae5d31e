"""each request names its incident's requesting agency; indexes by agency and time for the
board's aid given and received per month, which replace the index by agency alone (PostgreSQL's
planner took it for the board, with the time as a filter over the agency's whole history)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06
"""

import sqlalchemy as sa

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("assistance_requests", sa.Column("requesting_agency", sa.String(64)))
    op.execute(
        "UPDATE assistance_requests SET requesting_agency = (SELECT i.requesting_agency"
        " FROM incidents i WHERE i.incident_id = assistance_requests.incident_id)"
    )
    # SQLite cannot add NOT NULL to a column in place: batch mode copies the table.
    with op.batch_alter_table("assistance_requests") as table:
        table.alter_column("requesting_agency", existing_type=sa.String(64), nullable=False)
    op.create_index(
        "ix_assistance_requests_given", "assistance_requests", ["agency", "requested_at"]
    )
    op.create_index(
        "ix_assistance_requests_received",
        "assistance_requests",
        ["requesting_agency", "requested_at"],
    )
    op.drop_index("ix_assistance_requests_agency", table_name="assistance_requests")


def downgrade() -> None:
    op.create_index("ix_assistance_requests_agency", "assistance_requests", ["agency"])
    op.drop_index("ix_assistance_requests_received", table_name="assistance_requests")
    op.drop_index("ix_assistance_requests_given", table_name="assistance_requests")
    with op.batch_alter_table("assistance_requests") as table:
        table.drop_column("requesting_agency")
