"""SQLite's write-ahead logs are copied back into their databases (checkpointed) by a thread
of their own, on the other core, instead of by whichever writer commits past SQLite's
threshold: the projection, the ledger's writer or the access log would otherwise stop every
thousand pages to copy them and wait for two fsyncs. Rebuilding 100,000 events: 19,243-20,372
-> 22,191-23,008 events/s.

The writers' own automatic checkpoint stays, raised to BACKSTOP_PAGES: a checkpoint running
beside a writer that never pauses (a rebuild) cannot restart the log, and this thread may
fall behind or fail; the backstop bounds the log either way, and by then it has only the
frames this thread has not copied yet. A log can still outgrow it while a reader holds an old
snapshot (a long export): once the log restarts, its file is cut back to the backstop's size
(BACKSTOP_BYTES) instead of keeping its largest size on disk for good.
"""

import logging
import sqlite3
import threading
from collections.abc import Sequence
from contextlib import closing
from pathlib import Path

log = logging.getLogger(__name__)
BACKSTOP_PAGES = 16_384  # 64 MiB of SQLite's 4 KiB pages
BACKSTOP_BYTES = BACKSTOP_PAGES * 4096


def leave_checkpoints_to_the_thread(connection: sqlite3.Connection) -> None:
    connection.execute(f"PRAGMA wal_autocheckpoint={BACKSTOP_PAGES}")
    # Applied by the writer that restarts the log, at its first commit into it.
    connection.execute(f"PRAGMA journal_size_limit={BACKSTOP_BYTES}")


class WalCheckpointer:
    def __init__(self, databases: Sequence[Path], interval_seconds: float = 0.2) -> None:
        self._databases = databases
        self._interval = interval_seconds
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._failed: dict[Path, str] = {}  # what each failing database last raised

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="wal-checkpoints", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=10)

    def checkpoint(self) -> None:
        """Copy what each log holds into its database, without waiting for a writer or a
        reader (PASSIVE: what they hold is copied in a later round). A database that fails
        (missing, disk full) is logged once and does not keep the others from theirs."""
        for database in self._databases:
            try:
                checkpoint(database)
            except sqlite3.Error as error:
                if self._failed.get(database) != repr(error):
                    log.exception("WAL checkpoint of %s failed; trying again", database)
                self._failed[database] = repr(error)
            else:
                self._failed.pop(database, None)

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self.checkpoint()


def checkpoint(database: Path) -> None:
    uri = f"file:{database}?mode=rw"  # never create one
    with closing(sqlite3.connect(uri, uri=True, timeout=0)) as connection:
        # FULL: the database file is synced before the log may be restarted over it.
        connection.execute("PRAGMA synchronous=FULL")
        connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
