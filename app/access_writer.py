"""Writes the access log (app/access_log.py): many requests' entries in one transaction, and
while the database is unavailable, to the spool (app/access_spool.py) until it is back."""

import asyncio
import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from app.access_log import UNAVAILABLE, commit_entries, unstored
from app.access_spool import Spool, read

log = logging.getLogger(__name__)
BATCH = 500
# While the spool holds entries, how often an idle writer tries to move them into the table.
RETRY_SECONDS = 1.0


class AccessLogWriter:
    """Group commit: one thread writes the entries of many requests in one transaction, and
    each request waits until its own entry is committed. No answer leaves before its entry is
    durable, and concurrent requests neither take turns on the database nor wait on its lock.

    If the database is unavailable, the batch is appended to this process's spool file
    (fsynced) instead, and its requests go on as if it were committed. The spooled entries
    move into the table, in order and before any newer entry, as soon as the database is back:
    before the next batch, or within RETRY_SECONDS when no request comes. At start the writer
    claims the spool files of processes that died and moves their entries first.
    """

    def __init__(self, engine: Engine, spool: Path) -> None:
        self._engine = engine
        self._spool = Spool(spool)
        self._queue: queue.SimpleQueue[Pending | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="access-log", daemon=True)
        self._thread.start()

    @property
    def spooled(self) -> int:
        """Entries waiting in the spool for the database."""
        return self._spool.entries

    async def recorded(self, entry: dict[str, Any]) -> None:
        """Returns once the entry is committed or spooled; raises what the commit raised
        otherwise. The request waits on the event loop, not in a worker thread."""
        loop = asyncio.get_running_loop()
        committed: asyncio.Future[None] = loop.create_future()

        def settle(error: Exception | None) -> None:
            if error:
                committed.set_exception(error)
            else:
                committed.set_result(None)

        self._queue.put(Pending(stamped(entry), lambda e: loop.call_soon_threadsafe(settle, e)))
        await committed

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join()
        self._spool.close()

    def _run(self) -> None:
        self._replay()
        while (first := self._next()) is not None:
            batch = [first]
            while len(batch) < BATCH and not self._queue.empty():
                if (more := self._queue.get()) is None:
                    self._queue.put(None)  # finish this batch, then stop
                    break
                batch.append(more)
            self._commit(batch)

    def _next(self) -> "Pending | None":
        while True:
            try:
                return self._queue.get(timeout=RETRY_SECONDS if self._spool.files else None)
            except queue.Empty:
                self._replay()

    def _commit(self, batch: list["Pending"]) -> None:
        entries = [p.entry for p in batch]
        error = self._replay()  # the spooled entries first, so the table keeps their order
        errors = [error] * len(batch) if error else commit_entries(self._engine, entries)
        away = [entry for entry, e in zip(entries, errors, strict=True) if is_unavailable(e)]
        if away and self._spool.append(away):
            errors = [None if is_unavailable(e) else e for e in errors]
        for pending, e in zip(batch, errors, strict=True):
            pending.settle(e)

    def _replay(self) -> Exception | None:
        """Move the spooled entries into the table, oldest first, leaving out those already
        in it (committed before a crash kept their file from being removed). None once the
        spool is empty; else what the database raised. An entry the database refuses goes to
        the process log, as it would have when it was new."""
        for spooled in list(self._spool.files):
            entries = read(spooled.file)
            for start in range(0, len(entries), BATCH):
                try:
                    missing = unstored(self._engine, entries[start : start + BATCH])
                except UNAVAILABLE as away:
                    return away
                errors = commit_entries(self._engine, missing) if missing else []
                for entry, error in zip(missing, errors, strict=True):
                    if is_unavailable(error):
                        return error
                    if error:
                        log.error("access log refused a spooled entry: %s (%s)", entry, error)
            self._spool.remove(spooled)
        return None


def is_unavailable(error: Exception | None) -> bool:
    return isinstance(error, UNAVAILABLE)


@dataclass(frozen=True)
class Pending:
    entry: dict[str, Any]
    settle: Callable[[Exception | None], object]  # called once the commit is over


def stamped(entry: dict[str, Any]) -> dict[str, Any]:
    return {"at": datetime.now(UTC), **entry}
