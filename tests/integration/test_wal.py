"""On SQLite the write-ahead logs are checkpointed by a thread of their own (app/wal.py), not
by the writers; a log that outgrew the writers' backstop is cut back to it."""

import shutil
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.services import Services
from app.store import LedgerSQLiteRecorder
from app.wal import (
    BACKSTOP_BYTES,
    BACKSTOP_PAGES,
    WalCheckpointer,
    checkpoint,
    leave_checkpoints_to_the_thread,
)
from tests.scenarios import open_incident


def writer_settings(engine: sa.Engine) -> tuple[int, int]:
    with engine.connect() as conn:
        return (
            int(conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar_one()),
            int(conn.exec_driver_sql("PRAGMA journal_size_limit").scalar_one()),
        )


def test_every_writer_leaves_the_checkpoints_to_the_thread(sqlite_services: Services) -> None:
    recorder = sqlite_services.ledger.recorder
    assert isinstance(recorder, LedgerSQLiteRecorder)
    with recorder.datastore.transaction(commit=False) as c:
        c.execute("PRAGMA wal_autocheckpoint")
        ledger_settings = [c.fetchone()[0]]
        c.execute("PRAGMA journal_size_limit")
        ledger_settings.append(c.fetchone()[0])

    assert tuple(ledger_settings) == (BACKSTOP_PAGES, BACKSTOP_BYTES)
    for engine in (
        sqlite_services.read_models,
        sqlite_services.projection.engine,
        sqlite_services.access_log,
    ):
        assert writer_settings(engine) == (BACKSTOP_PAGES, BACKSTOP_BYTES)


def rows(database: Path, table: str) -> int:
    with closing(sqlite3.connect(database)) as conn:
        return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def rows_in_the_database_file(database: Path, table: str, folder: Path) -> int:
    """Counted in a copy of the database file alone: what the log holds is not there until a
    checkpoint has copied it."""
    copy = folder / f"copy-of-{database.name}"
    shutil.copyfile(database, copy)
    return rows(copy, table)


def test_the_thread_copies_the_logs_into_their_databases(
    sqlite_services: Services, tmp_path: Path
) -> None:
    assert sqlite_services.wal is not None
    sqlite_services.wal.stop()  # this test runs its rounds itself
    sqlite_services.wal.checkpoint()  # the tables, created at start
    files = sqlite_services.settings.sqlite_files
    open_incident(sqlite_services.ledger, "K-1")
    sqlite_services.projection.run_until_caught_up()
    written = [(files.events, "stored_events"), (files.read_models, "incidents")]
    stored = [rows(db, table) for db, table in written]
    assert [rows_in_the_database_file(db, table, tmp_path) for db, table in written] == [0, 0]

    sqlite_services.wal.checkpoint()

    assert [rows_in_the_database_file(db, table, tmp_path) for db, table in written] == stored
    assert min(stored) > 0


def test_a_database_that_fails_is_logged_once_and_the_others_are_checkpointed(
    sqlite_services: Services, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    assert sqlite_services.wal is not None
    sqlite_services.wal.stop()
    files = sqlite_services.settings.sqlite_files
    checkpointer = WalCheckpointer([tmp_path / "missing.sqlite", files.events])
    checkpointer.checkpoint()
    open_incident(sqlite_services.ledger, "K-1")
    stored = rows(files.events, "stored_events")

    checkpointer.checkpoint()
    checkpointer.checkpoint()

    assert rows_in_the_database_file(files.events, "stored_events", tmp_path) == stored
    assert [r.message for r in caplog.records if r.levelname == "ERROR"] == [
        f"WAL checkpoint of {tmp_path / 'missing.sqlite'} failed; trying again"
    ]


def test_a_log_that_outgrew_the_backstop_is_cut_back_once_it_restarts(tmp_path: Path) -> None:
    database = tmp_path / "db.sqlite"
    wal = tmp_path / "db.sqlite-wal"
    with closing(sqlite3.connect(database, isolation_level=None)) as writer:
        writer.execute("PRAGMA journal_mode=WAL")
        leave_checkpoints_to_the_thread(writer)
        writer.execute("CREATE TABLE t (b BLOB)")
        with closing(sqlite3.connect(database, isolation_level=None)) as reader:
            reader.execute("BEGIN")
            reader.execute("SELECT count(*) FROM t").fetchone()  # an old snapshot, held
            for _ in range(80):
                writer.execute("INSERT INTO t VALUES (zeroblob(1048576))")
            assert wal.stat().st_size > BACKSTOP_BYTES
            reader.execute("COMMIT")
        checkpoint(database)

        writer.execute("INSERT INTO t VALUES (1)")  # restarts the log

        assert wal.stat().st_size <= BACKSTOP_BYTES
