"""Reads whose cost must not grow with the log: checked by the plan SQLite chooses, not by a
timing (these machines are shared and noisy)."""

import uuid

import sqlalchemy as sa

from projections.queries import visible_to
from projections.tables import incidents, metadata


def plan(query: sa.Select[tuple[object, ...]]) -> list[str]:
    engine = sa.create_engine("sqlite://")
    metadata.create_all(engine)
    sql = str(query.compile(dialect=engine.dialect, compile_kwargs={"literal_binds": True}))
    with engine.connect() as conn:
        return [row[3] for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}")]


def test_one_incident_is_checked_against_one_party_row_not_all_of_the_agencys() -> None:
    one = incidents.c.incident_id == uuid.uuid4()

    steps = plan(sa.select(incidents).where(one, visible_to("KPD")))

    assert any("parties" in s and "(agency=? AND incident_id=?)" in s for s in steps), steps
    assert not any("parties" in s and "(agency=?)" in s for s in steps), steps
