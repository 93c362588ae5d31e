"""Wakes a process's projection runners and live streams when the event log grows.

Writes made in the same process wake them directly (the ledger's ``on_saved``). A projection
worker beside the API processes learns of writes only from the store, and asking it for new
events every 10 ms cost an idle worker a tenth of a core, and PostgreSQL 240 transactions a
second. Instead, on PostgreSQL the watch LISTENs on the events table's channel, to which the
library's recorder sends NOTIFY in every insert; SQLite has no notifications, but the events
file's ``data_version`` moves whenever another connection commits, and reading it is one C
call, not a transaction. The runners still look by themselves every ``poll_seconds``, so a
notification missed while the watch reconnects delays a batch but never loses one.
"""

import asyncio
import contextlib
import logging
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path

from eventsourcing.postgres import PostgresApplicationRecorder
from psycopg.sql import SQL, Identifier

from app.periodic import Background, Periodic

log = logging.getLogger(__name__)
Wake = Callable[[], None]
RECONNECT_SECONDS = 1.0


class LogSignal:
    """Tells the coroutines waiting for the log to grow (the live streams) that it did, from
    whichever thread learned it. Each idle stream asked the store every 100 ms before: a
    thousand open dashboards made ten thousand queries a second, and slowed every read."""

    def __init__(self) -> None:
        self._waiting: set[asyncio.Future[None]] = set()
        self._lock = threading.Lock()

    def waiter(self) -> asyncio.Future[None]:
        """A future that completes at the next growth: taken before looking at the log, so a
        write landing between the look and the wait is not missed."""
        future = asyncio.get_running_loop().create_future()
        with self._lock:
            self._waiting.add(future)
        future.add_done_callback(self._forget)
        return future

    def notify(self, *_: object) -> None:
        with self._lock:
            waiting, self._waiting = self._waiting, set()
        for future in waiting:
            with contextlib.suppress(RuntimeError):  # its loop closed: nobody waits any more
                future.get_loop().call_soon_threadsafe(_settle, future)

    def _forget(self, future: asyncio.Future[None]) -> None:
        with self._lock:
            self._waiting.discard(future)


def _settle(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


class SqliteLogWatch(Periodic):
    """Reads the events file's version every ``interval`` seconds; wakes on a change."""

    def __init__(self, events_file: Path, wake: Wake, interval: float) -> None:
        super().__init__("log-watch", interval, self.look)
        self._wake = wake
        self._connection = sqlite3.connect(events_file, check_same_thread=False)
        self._seen = self._version()

    def look(self) -> None:
        version = self._version()
        if version != self._seen:
            self._seen = version
            self._wake()

    def stop(self) -> None:
        super().stop()
        self._connection.close()

    def _version(self) -> int:
        version: int = self._connection.execute("PRAGMA data_version").fetchone()[0]
        return version


class PostgresLogWatch(Background):
    """Listens on the events table's channel, and reconnects when the connection is lost."""

    def __init__(self, recorder: PostgresApplicationRecorder, wake: Wake) -> None:
        super().__init__("log-watch", self._run)
        self._recorder = recorder
        self._wake = wake

    def _run(self) -> None:
        failed = ""  # what the last connection raised, logged once
        while not self._stop.is_set():
            try:
                self._listen()
            except Exception as error:
                if repr(error) != failed:
                    log.exception("listening for writes failed; the runners poll meanwhile")
                failed = repr(error)
                self._stop.wait(RECONNECT_SECONDS)

    def _listen(self) -> None:
        with self._recorder.datastore.get_connection() as conn:  # autocommit, as LISTEN needs
            conn.execute(SQL("LISTEN {0}").format(Identifier(self._recorder.channel_name)))
            self._wake()  # for what was written while nobody listened
            while not self._stop.is_set():
                for _ in conn.notifies(timeout=0.5, stop_after=1):
                    self._wake()
