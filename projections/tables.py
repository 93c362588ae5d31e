"""Read-model tables. Alembic owns their schema (``alembic/versions``); this module only
describes them for queries. Times are the caller's ``occurred_at`` unless named recorded_at."""

from datetime import UTC, datetime
from typing import Any

import orjson
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
# A Python None is SQL NULL (not the JSON text 'null'): a projection writes whole rows, so a
# column not yet set reads the same as one never written.
Json = sa.JSON(none_as_null=True)


def json_text(value: Any) -> str:
    return orjson.dumps(value).decode()


# For every engine over these tables: orjson encodes and decodes the JSON columns several
# times faster than the standard library, which was a tenth of a rebuild's time.
JSON_CODEC: dict[str, Any] = {"json_serializer": json_text, "json_deserializer": orjson.loads}

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
    sa.Column("corrections", Json, nullable=False, server_default="[]"),
    sa.Column("opened_by", Json, nullable=False),
    sa.Column("opened_at", Stamp(), nullable=False, index=True),
    sa.Column("recorded_at", Stamp(), nullable=False),
    sa.Column("outcome", sa.Text),
    sa.Column("closed_by", Json),
    sa.Column("closed_at", Stamp()),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("position", sa.BigInteger, nullable=False),
)

assistance_requests = sa.Table(
    "assistance_requests",
    metadata,
    sa.Column("incident_id", sa.Uuid, primary_key=True),
    sa.Column("number", sa.Integer, primary_key=True),
    # Indexed with requested_at (ix_assistance_requests_given), which serves the agency too.
    sa.Column("agency", sa.String(64), nullable=False),
    # The incident's requesting agency, copied here so that the aid an agency received, like
    # the aid it gave, is one walk down an index by agency and time.
    sa.Column("requesting_agency", sa.String(64), nullable=False),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("resources", Json, nullable=False),
    sa.Column("needed_at", Stamp(), nullable=False),
    sa.Column("location", sa.Text, nullable=False),
    sa.Column("report_to", sa.Text, nullable=False),
    sa.Column("staging_area", sa.Text),
    sa.Column("radio_channel", sa.Text),
    sa.Column("facts", sa.Text, nullable=False),
    sa.Column("requested_by", Json, nullable=False),
    sa.Column("requested_at", Stamp(), nullable=False),
    sa.Column("approved_by", Json),
    sa.Column("approved_at", Stamp()),
    sa.Column("decision", sa.String(32)),
    sa.Column("committed", Json),
    sa.Column("response_facts", sa.Text),
    sa.Column("officer_in_charge", Json),
    sa.Column("responded_by", Json),
    sa.Column("responded_at", Stamp()),
    sa.Column("arrived_at", Stamp()),
    sa.Column("deployed", Json, nullable=False),
    sa.Column("cancel_reason", sa.Text),
    sa.Column("arrestee_transport", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("requested_under", Json),
    sa.Column("request_exception", Json),
    sa.Column("approved_under", Json),
    sa.Column("responded_under", Json),
    sa.Column("response_exception", Json),
    # The board's aid per month: an agency's requests given, and received, since a time.
    sa.Index("ix_assistance_requests_given", "agency", "requested_at"),
    sa.Index("ix_assistance_requests_received", "requesting_agency", "requested_at"),
)

# An officer's status: deployed, recalled or released; or IN_CHARGE for a detail's officer in
# charge who is not among its officers sent: Kenosha IV.C.1 names them too, but nothing
# deploys, recalls or releases them, so they take no part in the officer statistics.
IN_CHARGE = "in_charge"

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
    sa.Column("involvement", Json, nullable=False),
)

withdrawals = sa.Table(
    "withdrawals",
    metadata,
    sa.Column("incident_id", sa.Uuid, primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("number", sa.Integer, nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("resources", Json, nullable=False),
    sa.Column("badges", Json, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("actor", Json, nullable=False),
    sa.Column("occurred_at", Stamp(), nullable=False),
)

obligations = sa.Table(
    "obligations",
    metadata,
    sa.Column("incident_id", sa.Uuid, primary_key=True),
    sa.Column("number", sa.Integer, primary_key=True),
    sa.Column("party", sa.String(64), nullable=False, index=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("recipients", Json, nullable=False),
    sa.Column("outstanding", Json, nullable=False),
    sa.Column("rule", Json, nullable=False),
    sa.Column("request_number", sa.Integer),
    sa.Column("status", sa.String(8), nullable=False),
    sa.Column("created_at", Stamp(), nullable=False),
    sa.Column("met_at", Stamp()),
    sa.Column("fulfilments", Json, nullable=False),
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
    # The event after the position, when the projection cannot apply it, and the error's
    # type: set by the runner that failed, cleared when the position moves.
    sa.Column("stalled_at", sa.BigInteger),
    sa.Column("stall_error", sa.String(200)),
)

READ_MODEL_TABLES = (incidents, assistance_requests, officers, withdrawals, obligations, parties)
