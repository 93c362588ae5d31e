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
from collections.abc import Sequence
from contextlib import closing
from pathlib import Path

from app.periodic import Periodic

log = logging.getLogger(__name__)
BACKSTOP_PAGES = 16_384  # 64 MiB of SQLite's 4 KiB pages
BACKSTOP_BYTES = BACKSTOP_PAGES * 4096


def leave_checkpoints_to_the_thread(connection: sqlite3.Connection) -> None:
    connection.execute(f"PRAGMA wal_autocheckpoint={BACKSTOP_PAGES}")
    # Applied by the writer that restarts the log, at its first commit into it.
    connection.execute(f"PRAGMA journal_size_limit={BACKSTOP_BYTES}")


class WalCheckpointer(Periodic):
    def __init__(self, databases: Sequence[Path], interval_seconds: float = 0.2) -> None:
        super().__init__("wal-checkpoints", interval_seconds, self.checkpoint)
        self._databases = databases
        self._failed: dict[Path, str] = {}  # what each failing database last raised

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


def checkpoint(database: Path) -> None:
    uri = f"file:{database}?mode=rw"  # never create one
    with closing(sqlite3.connect(uri, uri=True, timeout=0)) as connection:
        # FULL: the database file is synced before the log may be restarted over it.
        connection.execute("PRAGMA synchronous=FULL")
        connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
