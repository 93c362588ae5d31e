"""Brings the service's SQL tables to the newest alembic revision."""

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from alembic.config import Config
from sqlalchemy.engine import Engine

from alembic import command

SETUP_LOCK = 8_410_331  # any constant; serializes processes starting together


def upgrade_to_head(engine: Engine, migrations_dir: Path) -> None:
    config = Config(str(migrations_dir / "alembic.ini"))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "head")


@contextmanager
def setting_up_alone(engine: Engine) -> Iterator[None]:
    """Processes starting together take turns setting the store up: the read-model
    migrations, and the event store's tables, which the library creates with IF NOT EXISTS
    (not safe against a twin doing the same at that moment). Else the loser fails. On
    PostgreSQL by an advisory lock, on SQLite by a lock file."""
    with sqlite_turns(engine), engine.connect() as conn:
        if conn.dialect.name != "postgresql":
            yield
            return
        conn.execute(sa.text("SELECT pg_advisory_lock(:key)"), {"key": SETUP_LOCK})
        conn.commit()
        try:
            yield
        finally:
            conn.execute(sa.text("SELECT pg_advisory_unlock(:key)"), {"key": SETUP_LOCK})
            conn.commit()


@contextmanager
def sqlite_turns(engine: Engine) -> Iterator[None]:
    """One process at a time sets up this SQLite database (SQLite has no advisory lock): an
    exclusive lock on a file beside it."""
    if engine.dialect.name != "sqlite":
        yield
        return
    with open(f"{engine.url.database}.migrating", "w") as turn:
        fcntl.flock(turn, fcntl.LOCK_EX)
        yield
