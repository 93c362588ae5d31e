"""Issue 4, must show 6: stored events cannot be updated or deleted through SQL, in either
store; on PostgreSQL not even by a role that may write events but does not own the table."""

import sqlite3

import psycopg
import pytest

from app.services import build_services
from app.settings import Settings
from tests.scenarios import full_incident

TABLE = "mutualaidledger_events"


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE stored_events SET state = x'00'",
        "UPDATE stored_events SET originator_version = originator_version + 100",
        "DELETE FROM stored_events WHERE originator_version = 1",
        "DELETE FROM stored_events",
    ],
)
def test_sqlite_refuses_to_change_or_remove_a_stored_event(
    sqlite_settings: Settings, statement: str
) -> None:
    built = build_services(sqlite_settings)
    full_incident(built.ledger, "K-1")
    built.close()
    with sqlite3.connect(sqlite_settings.data_dir / "events.sqlite") as conn:
        before = conn.execute("SELECT count(*), sum(length(state)) FROM stored_events").fetchone()
        with pytest.raises(sqlite3.IntegrityError, match="stored events are immutable"):
            conn.execute(statement)
        after = conn.execute("SELECT count(*), sum(length(state)) FROM stored_events").fetchone()

    assert after == before


@pytest.mark.postgres
@pytest.mark.parametrize(
    "statement",
    [
        f"UPDATE {TABLE} SET state = '\\x00'",
        f"DELETE FROM {TABLE} WHERE originator_version = 1",
        f"TRUNCATE {TABLE}",
    ],
)
def test_postgres_refuses_to_change_or_remove_a_stored_event_even_for_its_owner(
    postgres_url: str, statement: str
) -> None:
    built = build_services(Settings(database_url=postgres_url))
    full_incident(built.ledger, "K-1")
    built.close()
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="immutable"):
            conn.execute(statement)
        count = conn.execute(f"SELECT count(*) FROM {TABLE}").fetchone()

    assert count == (8,)
