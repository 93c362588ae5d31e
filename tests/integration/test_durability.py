"""Durability settings are checked at start; a setting that could lose acknowledged writes
is reported plainly."""

import psycopg
import pytest
import sqlalchemy as sa

from app.services import Services, build_services
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


def commit_setting(engine: sa.Engine) -> str:
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            level = conn.exec_driver_sql("PRAGMA synchronous").scalar_one()
            return {1: "NORMAL", 2: "FULL"}[level]
        return str(conn.exec_driver_sql("SHOW synchronous_commit").scalar())


def test_only_the_incident_projection_commits_without_waiting_for_the_disk(
    services: Services,
) -> None:
    """Its batches are projected again from the log after a crash; seals (never made again),
    API keys, checkpoints and the access log are not, and keep waiting for the disk."""
    durable, projected = ("on", "off") if services.settings.uses_postgres else ("FULL", "NORMAL")
    assert commit_setting(services.projection.engine) == projected
    assert commit_setting(services.sealer.engine) == durable
    assert commit_setting(services.read_models) == durable
    assert commit_setting(services.access_log) == durable
