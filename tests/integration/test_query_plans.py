"""Reads whose cost must not grow with the log: checked by the plan SQLite chooses (and, for
the board's aid per month and the statistics, PostgreSQL too), not by a timing (these machines
are shared and noisy)."""

import uuid
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from app.settings import Settings
from projections.board import AID, DEPLOYED, OPEN_INCIDENTS
from projections.queries import (
    INCIDENT_SEEN_BY,
    STATISTICS_OFFICERS,
    STATISTICS_REQUESTS,
    STATISTICS_WITHDRAWALS,
    page_query,
)
from projections.tables import metadata


def plan(query: sa.ClauseElement) -> list[str]:
    engine = sa.create_engine("sqlite://")
    metadata.create_all(engine)
    with engine.connect() as conn:
        return [row[3] for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql(query, conn)}")]


def postgres_plan(url: str, query: sa.ClauseElement) -> list[str]:
    """With sequential scans priced out: on empty tables a plan says nothing of cost, so this
    asks whether the query can use its indexes at all (if not, it still scans)."""
    engine = sa.create_engine(Settings(database_url=url).read_model_url())
    try:
        metadata.create_all(engine)
        with engine.connect() as conn:
            conn.exec_driver_sql("SET enable_seqscan = off")
            return [row[0] for row in conn.exec_driver_sql(f"EXPLAIN {sql(query, conn)}")]
    finally:
        engine.dispose()


def sql(query: sa.ClauseElement, conn: sa.Connection) -> str:
    return str(query.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))


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


AID_SINCE = AID.params(agency="KPD", start=datetime(2026, 1, 1, tzinfo=UTC))


def test_the_boards_aid_per_month_walks_each_side_from_the_window_start() -> None:
    steps = plan(AID_SINCE)

    given = "ix_assistance_requests_given (agency=? AND requested_at>?)"
    received = "ix_assistance_requests_received (requesting_agency=? AND requested_at>?)"
    assert any(s.endswith(given) for s in steps), steps
    assert any(s.endswith(received) for s in steps), steps
    assert not any(s.startswith("SCAN") for s in steps), steps


@pytest.mark.postgres
def test_on_postgresql_the_boards_aid_per_month_walks_the_same_indexes(postgres_url: str) -> None:
    steps = postgres_plan(postgres_url, AID_SINCE)

    searched = [s for s in steps if "Index Cond" in s]
    assert any("ix_assistance_requests_given" in s for s in steps), steps
    assert any("ix_assistance_requests_received" in s for s in steps), steps
    assert len(searched) == 2, steps
    assert all("requested_at >= '2026-01-01" in s for s in searched), steps
    assert not any("Seq Scan" in s for s in steps), steps


PERIOD = {
    "agency": "KPD",
    "start": datetime(2026, 1, 1, tzinfo=UTC),
    "end": datetime(2026, 2, 1, tzinfo=UTC),
}
# Each statistics read, and the table it then reads by the key of each request found.
STATISTICS = {
    "requests": (STATISTICS_REQUESTS, "incidents"),
    "officers": (STATISTICS_OFFICERS, "officers"),
    "withdrawals": (STATISTICS_WITHDRAWALS, "withdrawals"),
}


@pytest.mark.parametrize(("query", "table"), STATISTICS.values(), ids=STATISTICS.keys())
def test_the_statistics_walk_each_side_from_the_period_start_then_look_up_by_request(
    query: sa.CompoundSelect[tuple[object, ...]], table: str
) -> None:
    steps = plan(query.params(**PERIOD))

    period = "requested_at>? AND requested_at<?"
    given = f"ix_assistance_requests_given (agency=? AND {period})"
    received = f"ix_assistance_requests_received (requesting_agency=? AND {period})"
    assert any(s.endswith(given) for s in steps), steps
    assert any(s.endswith(received) for s in steps), steps
    looked_up = [s for s in steps if s.startswith(f"SEARCH {table} ")]
    assert looked_up, steps
    assert all("(incident_id=?" in s for s in looked_up), steps
    assert not any(s.startswith("SCAN") for s in steps), steps


@pytest.mark.postgres
@pytest.mark.parametrize(("query", "table"), STATISTICS.values(), ids=STATISTICS.keys())
def test_on_postgresql_the_statistics_walk_the_same_indexes(
    postgres_url: str, query: sa.CompoundSelect[tuple[object, ...]], table: str
) -> None:
    steps = postgres_plan(postgres_url, query.params(**PERIOD))

    searched = [s for s in steps if "Index Cond" in s and "requested_at" in s]
    assert any("ix_assistance_requests_given" in s for s in steps), steps
    assert any("ix_assistance_requests_received" in s for s in steps), steps
    assert len(searched) == 2, steps
    assert all("'KPD'" in s and "requested_at >= '2026-01-01" in s for s in searched), steps
    assert any(f"{table}_pkey" in s for s in steps), steps
    assert not any("Seq Scan" in s for s in steps), steps
