"""Durability settings are checked at start; a setting that could lose acknowledged writes
is reported plainly."""

import psycopg
import pytest

from app.services import build_services
from app.settings import Settings
from app.store import durability_warnings


def test_sqlite_commits_with_synchronous_full_in_wal_mode(sqlite_settings: Settings) -> None:
    services = build_services(sqlite_settings)
    try:
        assert durability_warnings(services.ledger.recorder) == []
    finally:
        services.close()


@pytest.mark.postgres
def test_postgres_without_synchronous_commit_is_reported(postgres_url: str) -> None:
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        name = postgres_url.rsplit("/", 1)[1]
        conn.execute(f"ALTER DATABASE {name} SET synchronous_commit = off")
    services = build_services(Settings(database_url=postgres_url))
    try:
        warnings = durability_warnings(services.ledger.recorder)
    finally:
        services.close()

    # The test server runs with fsync=off for speed, so both are reported.
    assert warnings == [
        "synchronous_commit is off, not on: an acknowledged write may be lost in a crash",
        "fsync is off, not on: an acknowledged write may be lost in a crash",
    ]
