"""Issue 4, must show 6: stored events cannot be updated or deleted through SQL, in either
store; on PostgreSQL not even by a role that may write events but does not own the table."""

import asyncio
import sqlite3
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from app.access_writer import AccessLogWriter
from app.keys import create_key, end_key, list_keys, rotate_key
from app.services import build_services
from app.settings import Settings
from domain.incident import Incident
from tests.scenarios import every_kind_of_event, full_incident, snapshot_versions

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


@pytest.mark.postgres
def test_the_services_own_role_appends_events_but_cannot_change_or_unprotect_them(
    service_role_url: str,
) -> None:
    as_service = service_role_url
    service = build_services(Settings(database_url=as_service, create_tables=False))
    full_incident(service.ledger, "K-1")
    every_kind_of_event(service.ledger, "K-2")  # long enough to be snapshotted
    head = service.ledger.recorder.max_notification_id()
    assert service.projection.run_until_caught_up() == head
    assert service.sealer.run_until_caught_up() == head
    assert snapshot_versions(service.ledger, Incident.create_id("KPD", "K-2"))
    access_log = AccessLogWriter(service.access_log, service.settings.access_log_spool)
    asyncio.run(access_log.recorded({"method": "GET", "path": "/", "status": 200}))
    access_log.close()
    service.close()
    with psycopg.connect(as_service, autocommit=True) as conn:
        for statement in (
            f"UPDATE {TABLE} SET state = '\\x00'",
            f"DELETE FROM {TABLE}",
            f"ALTER TABLE {TABLE} DISABLE TRIGGER ALL",
            f"DROP TRIGGER events_no_update_or_delete ON {TABLE}",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)


@pytest.mark.postgres
def test_the_services_own_role_rotates_and_ends_keys_but_cannot_rewrite_or_extend_them(
    service_role_url: str,
) -> None:
    service = build_services(Settings(database_url=service_role_url, create_tables=False))
    create_key(service.read_models, "KPD", "CAD", valid_for=timedelta(days=1))
    [made] = list_keys(service.read_models)
    rotate_key(service.read_models, made["key_hash"], timedelta(hours=1))
    end_key(service.read_models, made["key_hash"], datetime.now(UTC))
    service.close()
    with psycopg.connect(service_role_url, autocommit=True) as conn:
        for statement in (
            "UPDATE api_keys SET role = 'state-auditor', agency = 'WI-DOJ'",
            "UPDATE api_keys SET valid_until = NULL",
            "UPDATE api_keys SET valid_until = valid_until + interval '1 year'",
            "UPDATE api_keys SET rotated_at = NULL",
            "DELETE FROM api_keys",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)
        may_update = conn.execute(
            "SELECT has_column_privilege('api_keys', name, 'UPDATE')"
            " FROM unnest(array['key_hash', 'agency', 'role', 'label', 'created_at']) AS name"
        ).fetchall()

    assert may_update == [(False,)] * 5
