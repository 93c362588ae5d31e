"""The incident as it stood at an earlier point: its events up to that point, applied by the
same handlers to a private in-memory read model, so the past reads exactly as the live
projection showed it then."""

from collections.abc import Iterable
from typing import Any
from uuid import UUID

import sqlalchemy as sa

from projections import incident_view
from projections.queries import IncidentRows, incident_rows
from projections.tables import JSON_CODEC, READ_MODEL_TABLES, metadata


def rows_as_of(
    events: Iterable[tuple[Any, int]], incident_id: UUID, agency: str | None
) -> IncidentRows | None:
    """``events``: (domain event, log position) pairs of one incident, in version order.
    None when the agency was not yet a party to the incident at the last of them."""
    engine = sa.create_engine("sqlite://", **JSON_CODEC)
    try:
        metadata.create_all(engine, tables=list(READ_MODEL_TABLES))
        with engine.begin() as conn:
            incident_view.apply_all(conn, list(events))
            rows = incident_rows(conn, incident_id, agency)
    finally:
        engine.dispose()
    return rows
