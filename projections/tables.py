"""Read-model tables. Alembic owns their schema (``alembic/versions``); this module only
describes them for queries. Times are the caller's ``occurred_at`` unless named recorded_at."""

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

metadata = sa.MetaData()


class UTCDateTime(sa.TypeDecorator[datetime]):
    """Stores every time in UTC and returns it aware, on SQLite (which keeps no offset) too,
    so ordering and reports never depend on the offset a caller happened to send."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


Stamp = UTCDateTime

incidents = sa.Table(
    "incidents",
    metadata,
    sa.Column("incident_id", sa.Uuid, primary_key=True),
    sa.Column("case_number", sa.String(100), nullable=False),
    sa.Column("requesting_agency", sa.String(64), nullable=False, index=True),
    sa.Column("nature", sa.Text, nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("location", sa.Text, nullable=False),
    sa.Column("scene_management", sa.String(32)),
    sa.Column("status", sa.String(16), nullable=False, index=True),
    sa.Column("open_obligations", sa.Integer, nullable=False, server_default="0"),
    sa.Column("corrections", sa.JSON, nullable=False, server_default="[]"),
    sa.Column("opened_by", sa.JSON, nullable=False),
    sa.Column("opened_at", Stamp(), nullable=False, index=True),
    sa.Column("recorded_at", Stamp(), nullable=False),
    sa.Column("outcome", sa.Text),
    sa.Column("closed_by", sa.JSON),
    sa.Column("closed_at", Stamp()),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("position", sa.BigInteger, nullable=False),
)

assistance_requests = sa.Table(
    "assistance_requests",
    metadata,
    sa.Column("incident_id", sa.Uuid, primary_key=True),
    sa.Column("number", sa.Integer, primary_key=True),
    sa.Column("agency", sa.String(64), nullable=False, index=True),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("resources", sa.JSON, nullable=False),
    sa.Column("needed_at", Stamp(), nullable=False),
    sa.Column("location", sa.Text, nullable=False),
    sa.Column("report_to", sa.Text, nullable=False),
    sa.Column("staging_area", sa.Text),
    sa.Column("radio_channel", sa.Text),
    sa.Column("facts", sa.Text, nullable=False),
    sa.Column("requested_by", sa.JSON, nullable=False),
    sa.Column("requested_at", Stamp(), nullable=False),
    sa.Column("approved_by", sa.JSON),
    sa.Column("approved_at", Stamp()),
    sa.Column("decision", sa.String(32)),
    sa.Column("committed", sa.JSON),
    sa.Column("response_facts", sa.Text),
    sa.Column("officer_in_charge", sa.JSON),
    sa.Column("responded_by", sa.JSON),
    sa.Column("responded_at", Stamp()),
    sa.Column("arrived_at", Stamp()),
    sa.Column("deployed", sa.JSON, nullable=False),
    sa.Column("cancel_reason", sa.Text),
    sa.Column("arrestee_transport", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("requested_under", sa.JSON),
    sa.Column("request_exception", sa.JSON),
    sa.Column("approved_under", sa.JSON),
    sa.Column("responded_under", sa.JSON),
    sa.Column("response_exception", sa.JSON),
)

officers = sa.Table(
    "officers",
    metadata,
    sa.Column("incident_id", sa.Uuid, primary_key=True),
    sa.Column("number", sa.Integer, primary_key=True),
    sa.Column("badge", sa.String(64), primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("agency", sa.String(64), nullable=False),
    sa.Column("rank", sa.Text),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("involvement", sa.JSON, nullable=False),
)

withdrawals = sa.Table(
    "withdrawals",
    metadata,
    sa.Column("incident_id", sa.Uuid, primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("number", sa.Integer, nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("resources", sa.JSON, nullable=False),
    sa.Column("badges", sa.JSON, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("actor", sa.JSON, nullable=False),
    sa.Column("occurred_at", Stamp(), nullable=False),
)

obligations = sa.Table(
    "obligations",
    metadata,
    sa.Column("incident_id", sa.Uuid, primary_key=True),
    sa.Column("number", sa.Integer, primary_key=True),
    sa.Column("party", sa.String(64), nullable=False, index=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("recipients", sa.JSON, nullable=False),
    sa.Column("outstanding", sa.JSON, nullable=False),
    sa.Column("rule", sa.JSON, nullable=False),
    sa.Column("request_number", sa.Integer),
    sa.Column("status", sa.String(8), nullable=False),
    sa.Column("created_at", Stamp(), nullable=False),
    sa.Column("met_at", Stamp()),
    sa.Column("fulfilments", sa.JSON, nullable=False),
)

# Who is party to which incident, as requester or asked, in list order: an agency's page of
# incidents is one walk down (agency, opened_at, incident_id), however long the log grows.
parties = sa.Table(
    "parties",
    metadata,
    sa.Column("agency", sa.String(64), primary_key=True),
    sa.Column("incident_id", sa.Uuid, primary_key=True),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("opened_at", Stamp(), nullable=False),
    sa.Index("ix_parties_page", "agency", "opened_at", "incident_id"),
)

# Position of each projection in the event log; written in the same transaction as its rows.
projection_tracking = sa.Table(
    "projection_tracking",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("position", sa.BigInteger, nullable=False),
)

READ_MODEL_TABLES = (incidents, assistance_requests, officers, withdrawals, obligations, parties)
