"""Alembic owns the read-model schema: upgrading an empty database yields exactly the tables
the code describes, on both stores, and upgrading twice is harmless."""

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from app.access_log import access_log
from app.migrations import upgrade_to_head
from app.services import read_model_engine
from app.settings import Settings
from projections.tables import metadata

T0 = datetime(2026, 11, 1, tzinfo=UTC)


def test_upgrade_on_an_empty_database_creates_every_table_the_code_uses(
    settings: Settings,
) -> None:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = read_model_engine(settings)
    try:
        upgrade_to_head(engine, settings.migrations_dir)
        upgrade_to_head(engine, settings.migrations_dir)
        inspector = sa.inspect(engine)
        tables = set(inspector.get_table_names()) - {"alembic_version"}
        assert tables == set(metadata.tables)
        for table in metadata.sorted_tables:
            columns = {c["name"] for c in inspector.get_columns(table.name)}
            assert columns == set(table.columns.keys()), table.name
    finally:
        engine.dispose()


def test_the_access_log_stays_append_only_after_every_revision(settings: Settings) -> None:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = read_model_engine(settings)
    try:
        upgrade_to_head(engine, settings.migrations_dir)
        with engine.begin() as conn:
            conn.execute(sa.insert(access_log).values(at=T0, method="GET", path="/", status=200))
        with engine.connect() as conn, pytest.raises(sa.exc.DatabaseError, match="immutable"):
            conn.execute(sa.update(access_log).values(status=500))
    finally:
        engine.dispose()
