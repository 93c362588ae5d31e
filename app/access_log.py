"""The access log: every request, allowed or refused, with who, what, when, outcome and
source address. Append-only: the database refuses to change or delete an entry.

On PostgreSQL it is a table of the read-model database (alembic revisions 0006 and 0008). On
SQLite it has a file of its own, made here at start with the same table and triggers, so that
its writer never waits on the projections' (SQLite admits one writer per file). Entries that
revisions before 0009 kept in the read-model file are copied over once.
"""

import asyncio
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from projections.tables import UTCDateTime, metadata

access_log = sa.Table(
    "access_log",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
    sa.Column("at", UTCDateTime(), nullable=False),
    sa.Column("agency", sa.String(64)),
    sa.Column("key_id", sa.String(12)),
    sa.Column("role", sa.String(32)),
    sa.Column("method", sa.String(16), nullable=False),  # llhttp's longest: UNSUBSCRIBE
    sa.Column("path", sa.Text, nullable=False),
    sa.Column("status", sa.Integer, nullable=False),
    sa.Column("source", sa.String(64)),
)


IMMUTABLE = "access log entries are immutable"


def prepare_sqlite_store(engine: Engine, read_models: Engine) -> None:
    with engine.begin() as conn:
        access_log.create(conn, checkfirst=True)
        for action in ("UPDATE", "DELETE"):
            conn.exec_driver_sql(
                f"CREATE TRIGGER IF NOT EXISTS access_log_no_{action.lower()} BEFORE {action}"
                f" ON access_log BEGIN SELECT RAISE(ABORT, '{IMMUTABLE}'); END"
            )
        if conn.execute(sa.select(access_log.c.id).limit(1)).first() is None:
            with read_models.connect() as old:
                earlier = [dict(r) for r in old.execute(sa.select(access_log)).mappings()]
            if earlier:
                conn.execute(sa.insert(access_log), earlier)


BATCH = 500


class AccessLogWriter:
    """Group commit: one thread writes the entries of many requests in one transaction, and
    each request waits until its own entry is committed. No answer leaves before its entry is
    durable, and concurrent requests neither take turns on the database nor wait on its lock.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._queue: queue.SimpleQueue[Pending | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="access-log", daemon=True)
        self._thread.start()

    async def recorded(self, entry: dict[str, Any]) -> None:
        """Returns once the entry is committed; raises what the commit raised. The request
        waits on the event loop, not in a worker thread."""
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

    def _run(self) -> None:
        while (first := self._queue.get()) is not None:
            batch = [first]
            while len(batch) < BATCH and not self._queue.empty():
                if (more := self._queue.get()) is None:
                    self._queue.put(None)  # finish this batch, then stop
                    break
                batch.append(more)
            self._commit(batch)

    def _commit(self, batch: list["Pending"]) -> None:
        errors = commit_entries(self._engine, [p.entry for p in batch])
        for pending, error in zip(batch, errors, strict=True):
            pending.settle(error)


def commit_entries(engine: Engine, entries: list[dict[str, Any]]) -> list[Exception | None]:
    """Insert the entries in one transaction; what each one's commit raised. If the database
    refuses the batch's data, each entry is tried alone: one it refuses must not cost the
    other requests their entries."""
    error = insert_entries(engine, entries)
    if isinstance(error, REFUSED) and len(entries) > 1:
        return [insert_entries(engine, [entry]) for entry in entries]
    return [error] * len(entries)


REFUSED = (sa.exc.DataError, sa.exc.IntegrityError)


def insert_entries(engine: Engine, entries: list[dict[str, Any]]) -> Exception | None:
    try:
        with engine.begin() as conn:
            conn.execute(sa.insert(access_log), entries)
    except Exception as failure:
        return failure
    return None


@dataclass(frozen=True)
class Pending:
    entry: dict[str, Any]
    settle: Callable[[Exception | None], object]  # called once the commit is over


def stamped(entry: dict[str, Any]) -> dict[str, Any]:
    return {"at": datetime.now(UTC), **entry}


def entries_of(
    conn: Connection, agency: str | None, after: int, limit: int
) -> list[dict[str, Any]]:
    """Oldest first after entry ``after``; ``agency``'s own requests, or all when None."""
    query = sa.select(access_log).where(access_log.c.id > after)
    if agency is not None:
        query = query.where(access_log.c.agency == agency)
    query = query.order_by(access_log.c.id).limit(limit)
    return [dict(row) for row in conn.execute(query).mappings()]
