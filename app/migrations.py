"""Brings the service's SQL tables to the newest alembic revision."""

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from alembic.config import Config
from sqlalchemy.engine import Engine

from alembic import command

MIGRATION_LOCK = 8_410_331  # any constant; serializes API processes starting together


def upgrade_to_head(engine: Engine, migrations_dir: Path) -> None:
    """Processes starting together take turns, else two would migrate an empty store at once
    and the loser fail: on PostgreSQL by an advisory lock, on SQLite by a lock file."""
    config = Config(str(migrations_dir / "alembic.ini"))
    with sqlite_turns(engine), engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        config.attributes["connection"] = conn
        command.upgrade(config, "head")


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
