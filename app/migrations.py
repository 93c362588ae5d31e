"""Brings the service's SQL tables to the newest alembic revision."""

from pathlib import Path

import sqlalchemy as sa
from alembic.config import Config
from sqlalchemy.engine import Engine

from alembic import command

MIGRATION_LOCK = 8_410_331  # any constant; serializes API processes starting together


def upgrade_to_head(engine: Engine, migrations_dir: Path) -> None:
    config = Config(str(migrations_dir / "alembic.ini"))
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        config.attributes["connection"] = conn
        command.upgrade(config, "head")
