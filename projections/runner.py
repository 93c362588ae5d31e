"""Feeds a projection from the event log: in log order, in batches, exactly once.

A batch's rows and the new tracking position commit in one transaction, and the position only
moves by compare-and-set, done before the batch reads or writes a row: it locks the tracking row
(PostgreSQL) or the database (SQLite) until the commit, so a second consumer, or a rebuild
emptying the tables, waits for the batch or finds the position moved and reads it again. No
event is applied twice, and none is written into tables being emptied. Polling over
``select_notifications`` works on both stores (SQLite has no subscription); writers in this
process wake the runner, which lingers a moment so that the writes arriving together are
projected in one transaction: under load a batch holds many events, not one.

On PostgreSQL the library's recorder locks the events table for every insert, so log positions
become visible in commit order and reading ``id > last`` never skips an event.

An event the projection cannot apply (a handler's bug, a value its database refuses) stops it
there: skipping would make every later report silently wrong. A batch that fails is tried
again one event at a time, so the events before that one are projected, and the event and the
error's type are recorded in the tracking row (shown by /healthz from any process) unless
another consumer moved the position meanwhile (a lost race). Moving the position clears it:
a fixed release resumes the projection, and a failure that passes (the database was away)
shows only until the next retry.
"""

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from eventsourcing.persistence import ApplicationRecorder, Notification
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from projections.tables import READ_MODEL_TABLES, projection_tracking

log = logging.getLogger(__name__)

# What to do once a batch has committed (a projection keeping what it wrote in memory).
Committed = Callable[[], None]
# Applies one batch of (event, log position) pairs, in order, inside the runner's transaction;
# the last argument is the tracking position the batch follows.
Apply = Callable[[Connection, Sequence[tuple[Any, int]], int], Committed | None]
Decode = Callable[[Notification], Any]


class ProjectionConflict(Exception):
    """Another consumer moved the tracking position first; this batch was rolled back."""


@dataclass(frozen=True)
class Stall:
    """The projection cannot apply the event at ``position``; ``error`` is the type of what
    was raised (the message, which may quote an incident's data, is only logged)."""

    position: int
    error: str


MAX_BACKOFF_SECONDS = 5.0  # between retries of a batch that keeps failing


class ProjectionRunner:
    def __init__(
        self,
        name: str,
        recorder: ApplicationRecorder,
        decode: Decode,
        engine: Engine,
        apply: Apply,
        batch_size: int = 500,
        poll_seconds: float = 0.5,
        linger_seconds: float = 0.0,
        write_lock: AbstractContextManager[Any] | None = None,
    ) -> None:
        self.name = name
        self._recorder = recorder
        self._decode = decode
        self.engine = engine
        self._apply = apply
        self._batch_size = batch_size
        self._poll_seconds = poll_seconds
        self._linger_seconds = linger_seconds
        self._write_lock = write_lock or nullcontext()
        self._one_batch_at_a_time = threading.Lock()  # a rebuild beside this runner's thread
        self._one_event_at_a_time_until = 0  # the last position of a batch that failed
        self._wake = threading.Event()
        self._lingers = False  # whether what woke it asked to wait for more writes
        self._stop = threading.Event()
        self._advanced = threading.Condition()
        self._thread: threading.Thread | None = None

    def position(self) -> int:
        with self.engine.connect() as conn:
            return read_position(conn, self.name)

    def stall(self) -> Stall | None:
        """The event this projection cannot apply, as the runner that failed recorded it
        (unless the position has moved past it since, by a release that does not know)."""
        query = sa.select(projection_tracking).where(projection_tracking.c.name == self.name)
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        if row is None or row.stalled_at is None or row.stalled_at <= row.position:
            return None
        return Stall(row.stalled_at, row.stall_error)

    def run_until_caught_up(self) -> int:
        """Apply everything in the log now; return how many events were applied."""
        applied = 0
        while (count := self._apply_next_batch()) > 0:
            applied += count
        return applied

    def rebuild(self) -> int:
        """Empty the read model and project the whole log again, in one transaction: until it
        commits, reads see the read model as it was, not part-built (an acceptance test saw
        incidents answer 404 for seconds), and a failure leaves it as it was. Beside a live
        runner too: the reset takes the tracking row first (see reset_position), and the
        live runner waits for the commit. Then whatever was written meanwhile is projected."""
        self._one_event_at_a_time_until = 0
        applied = position = 0
        with self._one_batch_at_a_time, self._write_lock, self.engine.begin() as conn:
            reset_position(conn, self.name)
            for table in reversed(READ_MODEL_TABLES):
                conn.execute(sa.delete(table))
            while batch := self._recorder.select_notifications(
                start=position, limit=self._batch_size, inclusive_of_start=False
            ):
                advance_position(conn, self.name, position, batch[-1].id)
                committed = self._apply(conn, [(self._decode(n), n.id) for n in batch], position)
                if committed:
                    committed()  # stored for the next batch, which reads in this transaction
                applied, position = applied + len(batch), batch[-1].id
        return applied + self.run_until_caught_up()

    def wait_for(self, position: int, timeout: float) -> bool:
        """Block until the projection has applied ``position``, at most ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while self.position() < position:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            with self._advanced:
                # Woken at once by a runner in this process; another process's, by polling.
                self._advanced.wait(min(remaining, 0.01))
        return True

    def wake(self, _position: int = 0, linger: bool = True) -> None:
        """``linger``: wait a moment for the writes arriving with this one; a waker that
        gathers writes itself (one look every few milliseconds) does not ask for it."""
        self._lingers = self._lingers or linger
        self._wake.set()

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self._run, name=f"projection-{self.name}", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread:
            self._thread.join(timeout=10)

    def run_forever(self) -> None:
        self._run()

    def _run(self) -> None:
        retry_in, last_error = self._poll_seconds, ""
        while not self._stop.is_set():
            try:
                self.run_until_caught_up()
                retry_in, last_error = self._poll_seconds, ""
            except Exception as error:
                # The database may be down, another consumer ahead, or an event stalled the
                # projection: try again, less and less often, with the traceback logged once.
                if repr(error) != last_error:
                    log.exception("projection %s failed; retrying", self.name)
                last_error = repr(error)
                self._stop.wait(retry_in)
                retry_in = min(retry_in * 2, MAX_BACKOFF_SECONDS)
            if self._wake.wait(self._poll_seconds) and self._lingers:
                self._stop.wait(self._linger_seconds)
            self._wake.clear()
            self._lingers = False

    def _apply_next_batch(self) -> int:
        with self._one_batch_at_a_time:
            while True:
                failed: list[tuple[int, Sequence[Notification]]] = []
                try:
                    batch, committed = self._apply_batch(failed)
                    break
                except ProjectionConflict:
                    continue  # nothing was applied: read the position again
                except Exception as error:
                    # Rolled back by now; a batch of several is tried again at once, narrowed.
                    if not (failed and self._narrowed(*failed[0], error)):
                        raise
            if committed:
                committed()
        if batch:
            with self._advanced:
                self._advanced.notify_all()
        return len(batch)

    def _apply_batch(
        self, failed: list[tuple[int, Sequence[Notification]]]
    ) -> tuple[Sequence[Notification], Committed | None]:
        with self._write_lock, self.engine.begin() as conn:
            start = read_position(conn, self.name)
            one_at_a_time = start < self._one_event_at_a_time_until
            batch = self._recorder.select_notifications(
                start=start,
                limit=1 if one_at_a_time else self._batch_size,
                inclusive_of_start=False,
            )
            if not batch:
                return batch, None  # an idle poll takes no lock
            advance_position(conn, self.name, start, batch[-1].id)
            try:
                committed = self._apply(conn, [(self._decode(n), n.id) for n in batch], start)
            except Exception:
                failed.append((start, batch))
                raise
        return batch, committed

    def _narrowed(self, start: int, batch: Sequence[Notification], error: Exception) -> bool:
        """After a failed batch: True if it held several events, now to be applied one at a
        time up to its last; a single event's failure is recorded as a stall, if it is one."""
        if len(batch) > 1:
            self._one_event_at_a_time_until = batch[-1].id
            return True
        if batch:
            stall = Stall(batch[0].id, type(error).__name__)
            # A row created meanwhile by another consumer's first batch: a lost race.
            with (
                contextlib.suppress(sa.exc.IntegrityError),
                self._write_lock,
                self.engine.begin() as conn,
            ):
                record_stall(conn, self.name, start, stall)
        return False


def read_position(conn: Connection, name: str) -> int:
    query = sa.select(projection_tracking.c.position).where(projection_tracking.c.name == name)
    return conn.execute(query).scalar_one_or_none() or 0


def advance_position(conn: Connection, name: str, expected: int, new: int) -> None:
    """Compare-and-set; moving the position clears a stall, which was at the next event. The
    row (or, on SQLite, the database) stays locked until the transaction ends."""
    moved = conn.execute(
        sa.update(projection_tracking)
        .where(projection_tracking.c.name == name, projection_tracking.c.position == expected)
        .values(position=new, stalled_at=None, stall_error=None)
    )
    if moved.rowcount == 1:
        return
    if expected == 0:  # no row yet: the first batch creates it, unless another one did
        with contextlib.suppress(sa.exc.IntegrityError):
            conn.execute(sa.insert(projection_tracking).values(name=name, position=new))
            return
    raise ProjectionConflict(f"projection {name} moved past {expected} meanwhile")


def record_stall(conn: Connection, name: str, position: int, stall: Stall) -> None:
    """Only while the position is still where the failed batch started: if another consumer
    moved it, the failure was a lost race, not this event's fault."""
    stalled = {"stalled_at": stall.position, "stall_error": stall.error}
    recorded = conn.execute(
        sa.update(projection_tracking)
        .where(projection_tracking.c.name == name, projection_tracking.c.position == position)
        .values(**stalled)
    )
    if recorded.rowcount == 0 and position == 0:  # no row yet: nothing was projected
        conn.execute(sa.insert(projection_tracking).values(name=name, position=0, **stalled))


def reset_position(conn: Connection, name: str) -> None:
    """Back to the start, with no stall, before the tables are emptied in the same
    transaction. It waits for a batch that holds the row (even a first batch's, not yet
    committed) and holds it until the reset commits, so no batch writes while the tables
    are emptied, and one that read the position before finds it moved."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    start = {"position": 0, "stalled_at": None, "stall_error": None}
    conn.execute(
        dialect.insert(projection_tracking)
        .values(name=name, **start)
        .on_conflict_do_update(index_elements=[projection_tracking.c.name], set_=start)
    )
