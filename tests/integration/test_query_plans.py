"""Reads whose cost must not grow with the log: checked by the plan SQLite chooses, not by a
timing (these machines are shared and noisy)."""

import uuid
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from projections.board import DEPLOYED, OPEN_INCIDENTS
from projections.queries import INCIDENT_SEEN_BY, page_query
from projections.tables import metadata


def plan(query: sa.Select[tuple[object, ...]]) -> list[str]:
    engine = sa.create_engine("sqlite://")
    metadata.create_all(engine)
    sql = str(query.compile(dialect=engine.dialect, compile_kwargs={"literal_binds": True}))
    with engine.connect() as conn:
        return [row[3] for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}")]


def test_one_incident_is_checked_against_one_party_row_not_all_of_the_agencys() -> None:
    query = INCIDENT_SEEN_BY[True].params(incident_id=uuid.uuid4(), agency="KPD")

    steps = plan(query)

    assert any("parties" in s and "(agency=? AND incident_id=?)" in s for s in steps), steps
    assert not any("parties" in s and "(agency=?)" in s for s in steps), steps


def test_an_agencys_next_page_starts_at_the_cursor_in_its_parties_index() -> None:
    query = page_query(True, frozenset({"status"}), None, True).params(
        agency="KPD",
        status="open",
        limit=51,
        after_opened_at=datetime.now(UTC),
        after_incident_id=uuid.uuid4(),
    )

    steps = plan(query)

    assert "ix_parties_page (agency=? AND (opened_at,incident_id)<(?,?))" in steps[0], steps
    assert not any("TEMP B-TREE" in s for s in steps), steps


@pytest.mark.parametrize("query", [OPEN_INCIDENTS, DEPLOYED], ids=["count", "deployed totals"])
def test_the_boards_figures_walk_the_open_incidents_not_the_whole_history(
    query: sa.Select[tuple[object, ...]],
) -> None:
    steps = plan(query.params(agency="KPD"))

    assert "SEARCH incidents USING INDEX ix_incidents_status (status=?)" in steps[0], steps
    assert not any(s.startswith(("SCAN incidents", "SCAN assistance_requests")) for s in steps)
