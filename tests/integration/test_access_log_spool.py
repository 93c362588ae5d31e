"""No access log entry is lost while the database is unavailable: the writer spools it to a
file under the data directory, answers, and moves it into the table once the database is
back, with its original time, once; a spool left by a process that died is replayed by the
next one to start. Data the database refuses is handled as before (tests/api/test_access_log).
The PostgreSQL outage over HTTP is in test_database_outage."""

import asyncio
import os
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import closing
from datetime import UTC, datetime
from io import FileIO
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from app.access_log import access_log
from app.access_spool import read
from app.access_writer import AccessLogWriter
from app.services import Services
from app.settings import SOURCE_ROOT


def entry(path: str, status: int | None = 200) -> dict[str, Any]:
    return {"method": "GET", "path": path, "status": status}


def record(writer: AccessLogWriter, *entries: dict[str, Any]) -> None:
    async def each() -> None:
        for one in entries:
            await writer.recorded(one)

    asyncio.run(each())


def stored(engine: sa.Engine) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        query = sa.select(access_log.c.path, access_log.c.at, access_log.c.spool_id)
        return [dict(r) for r in conn.execute(query.order_by(access_log.c.id)).mappings()]


@pytest.fixture
def unlockable(sqlite_services: Services) -> Iterator[sa.Engine]:
    """The access log file, through an engine that fails at once on a lock instead of
    waiting 30 s for it."""
    url = f"sqlite:///{sqlite_services.settings.sqlite_files.access_log}"
    engine = sa.create_engine(url, connect_args={"timeout": 0})
    yield engine
    engine.dispose()


def test_entries_made_while_the_database_is_locked_are_stored_after_it_with_their_times(
    sqlite_services: Services, unlockable: sa.Engine
) -> None:
    writer = AccessLogWriter(unlockable, sqlite_services.settings.access_log_spool)
    lock = sqlite3.connect(sqlite_services.settings.sqlite_files.access_log)
    lock.execute("BEGIN EXCLUSIVE")
    before = datetime.now(UTC)
    record(writer, entry("/during/1"), entry("/during/2"))  # answered: spooled
    spooled = writer.spooled
    lock.rollback()
    after = datetime.now(UTC)
    record(writer, entry("/after"))
    writer.close()
    lock.close()

    rows = stored(unlockable)
    assert spooled == 2
    assert [r["path"] for r in rows] == ["/during/1", "/during/2", "/after"]
    assert before <= rows[0]["at"] <= rows[1]["at"] <= after <= rows[2]["at"]
    assert [bool(r["spool_id"]) for r in rows] == [True, True, False]
    assert writer.spooled == 0
    assert not list(sqlite_services.settings.access_log_spool.iterdir())


def test_an_idle_writer_moves_the_spool_into_the_table_when_the_database_returns(
    sqlite_services: Services, unlockable: sa.Engine
) -> None:
    writer = AccessLogWriter(unlockable, sqlite_services.settings.access_log_spool)
    with closing(sqlite3.connect(sqlite_services.settings.sqlite_files.access_log)) as lock:
        lock.execute("BEGIN EXCLUSIVE")
        record(writer, entry("/during"))
    drained = wait_until(lambda: writer.spooled == 0)
    writer.close()

    assert drained
    assert [r["path"] for r in stored(unlockable)] == ["/during"]


def test_a_spool_left_by_a_process_that_died_is_replayed_once_by_the_next_to_start(
    services: Services,
) -> None:
    folder = services.settings.access_log_spool
    died = subprocess.run(
        [sys.executable, "-c", DIES_WITH_A_SPOOL, str(folder)],
        env={**os.environ, "PYTHONPATH": str(SOURCE_ROOT)},
        check=False,
    )
    [left] = folder.glob("*.jsonl")
    with services.access_log.begin() as conn:  # committed before the crash removed the file
        conn.execute(sa.insert(access_log), first_spooled(left))

    writer = AccessLogWriter(services.access_log, folder)
    record(writer, entry("/new"))  # the writer replays the spool before anything else
    writer.close()

    rows = stored(services.access_log)
    assert died.returncode == -9
    assert [r["path"] for r in rows] == ["/died/1", "/died/2", "/died/3", "/new"]
    assert len({r["spool_id"] for r in rows[:3]}) == 3
    assert rows[0]["at"] < rows[1]["at"] < rows[2]["at"] < rows[3]["at"]
    assert not list(folder.iterdir())


# Spools three entries (as if the database were away), then is killed holding its file.
DIES_WITH_A_SPOOL = """
import os, signal, sys
from datetime import UTC, datetime
from pathlib import Path
from app.access_spool import Spool
spool = Spool(Path(sys.argv[1]))
for n in (1, 2, 3):
    spool.append([{"at": datetime.now(UTC), "method": "GET", "path": f"/died/{n}",
                   "status": 200}])
os.kill(os.getpid(), signal.SIGKILL)
"""


def first_spooled(path: Path) -> dict[str, Any]:
    with FileIO(path) as file:
        return read(file)[0]


def test_a_living_processs_spool_is_not_claimed_by_another(
    sqlite_services: Services, unlockable: sa.Engine
) -> None:
    folder = sqlite_services.settings.access_log_spool
    writer = AccessLogWriter(unlockable, folder)
    with closing(sqlite3.connect(sqlite_services.settings.sqlite_files.access_log)) as lock:
        lock.execute("BEGIN EXCLUSIVE")
        record(writer, entry("/held"))
        other = AccessLogWriter(unlockable, folder)
        other_held = other.spooled
        other.close()
    record(writer, entry("/after"))
    writer.close()

    assert (other_held, writer.spooled) == (0, 0)
    assert [r["path"] for r in stored(unlockable)] == ["/held", "/after"]


def test_an_entry_the_database_refuses_is_not_spooled(services: Services) -> None:
    writer = AccessLogWriter(services.access_log, services.settings.access_log_spool)
    with pytest.raises(sa.exc.IntegrityError):
        record(writer, entry("/refused", status=None))
    writer.close()

    assert writer.spooled == 0
    assert not list(services.settings.access_log_spool.iterdir())


def test_without_a_spool_to_write_the_entry_goes_to_the_process_log(
    sqlite_services: Services, unlockable: sa.Engine
) -> None:
    folder = sqlite_services.settings.access_log_spool
    writer = AccessLogWriter(unlockable, folder)
    folder.rmdir()
    folder.write_text("not a folder")  # as a full disk, the spool file cannot be made
    with closing(sqlite3.connect(sqlite_services.settings.sqlite_files.access_log)) as lock:
        lock.execute("BEGIN EXCLUSIVE")
        with pytest.raises(sa.exc.OperationalError):
            record(writer, entry("/lost"))
    writer.close()

    assert writer.spooled == 0


def wait_until(condition: Callable[[], bool], rounds: int = 500) -> bool:
    """The writer retries on a thread of its own: look every 10 ms, for 5 s at most."""
    pause = threading.Event()
    for _ in range(rounds):
        if condition():
            return True
        pause.wait(0.01)
    return condition()
