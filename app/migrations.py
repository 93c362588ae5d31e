"""Brings the service's SQL tables to the newest alembic revision."""

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

from alembic import command

SETUP_LOCK = 8_410_331  # any constant; serializes processes starting together


class NotMigrated(RuntimeError):
    """The tables are not at the newest revision, and this process may not migrate them."""


def upgrade_to_head(engine: Engine, migrations_dir: Path) -> None:
    config = alembic_config(migrations_dir)
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "head")


def check_at_head(engine: Engine, migrations_dir: Path) -> None:
    """For a process that does not own the tables (MAL_CREATE_TABLES=false): it could not
    migrate them, so it says what to do rather than fail on a permission half way."""
    heads = set(ScriptDirectory.from_config(alembic_config(migrations_dir)).get_heads())
    with engine.connect() as conn:
        current = set(MigrationContext.configure(conn).get_current_heads())
    if current != heads:
        found = ", ".join(sorted(current)) or "none"
        raise NotMigrated(
            f"the read-model tables are at revision {found}, not {', '.join(sorted(heads))}:"
            " run `mutual-aid migrate` as the tables' owner"
        )


def alembic_config(migrations_dir: Path) -> Config:
    return Config(str(migrations_dir / "alembic.ini"))


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
