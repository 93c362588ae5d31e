"""Reads what verification needs from the stores, streaming, and keeps checkpoints."""

from collections.abc import Callable, Iterable, Iterator, Set
from dataclasses import asdict
from datetime import UTC, datetime
from typing import cast
from uuid import UUID

import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from eventsourcing.persistence import ApplicationRecorder
from sqlalchemy.engine import Engine

from app.audit import Checkpoint, Verdict, sign, verify_incident, verify_log
from app.store import IdempotentRecorder, state_bytes
from projections.seals import PROJECTION, Seal, StoredEvent, checkpoints, event_seals
from projections.tables import projection_tracking

BATCH = 1000


def sealed_extent(engine: Engine) -> tuple[int, list[Checkpoint]]:
    """The signed checkpoints, and the newest position the sealer passed or a seal or a
    checkpoint vouches for. Verification and export stop there: an event written after it
    is not sealed yet (it would pass for one inserted), and every event up to it was visible
    to the sealer, so it is to us (positions become visible in commit order). The sealer's
    position and the checkpoints count in case the newest seals were removed (a review found
    edits to the newest events, with their seals removed, passing)."""
    checkpoints = load_checkpoints(engine)
    tracked = sa.select(projection_tracking.c.position).where(
        projection_tracking.c.name == PROJECTION
    )
    newest = sa.select(sa.func.max(event_seals.c.position), tracked.scalar_subquery())
    with engine.connect() as conn:
        sealed, passed = conn.execute(newest).one()
    return max([sealed or 0, passed or 0, *(c.position for c in checkpoints)]), checkpoints


def stored_events(recorder: ApplicationRecorder, upto: int | None = None) -> Iterator[StoredEvent]:
    """The log in order, up to position ``upto`` (or to its end), as stored."""
    start = 0
    while batch := recorder.select_notifications(start, BATCH, stop=upto, inclusive_of_start=False):
        for n in batch:
            state = state_bytes(n.state)
            yield StoredEvent(n.id, str(n.originator_id), n.originator_version, n.topic, state)
        start = batch[-1].id


def stored_seals(engine: Engine, upto: int, originator_id: str | None = None) -> Iterator[Seal]:
    c, after = event_seals.c, 0
    while True:
        query = (
            sa.select(event_seals)
            .where(c.position > after, c.position <= upto)
            .order_by(c.position)
            .limit(BATCH)
        )
        if originator_id:
            query = query.where(c.originator_id == originator_id)
        with engine.connect() as conn:
            rows = conn.execute(query).all()
        if not rows:
            return
        for row in rows:
            yield Seal(*row)
        after = rows[-1].position


def load_checkpoints(engine: Engine) -> list[Checkpoint]:
    with engine.connect() as conn:
        rows = conn.execute(sa.select(checkpoints).order_by(checkpoints.c.position)).mappings()
        return [Checkpoint(**row) for row in rows]


def make_checkpoint(engine: Engine, private: Ed25519PrivateKey) -> Checkpoint:
    """Sign the digest of the newest sealed event, and keep a copy."""
    c = event_seals.c
    with engine.begin() as conn:
        head = conn.execute(
            sa.select(c.position, c.log_digest).order_by(c.position.desc()).limit(1)
        ).first()
        if head is None:
            raise ValueError("nothing is sealed yet")
        checkpoint = sign(private, head.position, head.log_digest, datetime.now(UTC))
        existing = conn.execute(
            sa.select(checkpoints).where(checkpoints.c.position == head.position)
        ).first()
        if existing is None:
            conn.execute(sa.insert(checkpoints).values(**asdict(checkpoint)))
    return checkpoint


def verify_store(
    recorder: ApplicationRecorder,
    engine: Engine,
    trusted_keys: Set[str],
    kept: Iterable[Checkpoint] = (),
    watch: Callable[[Iterator[StoredEvent]], Iterator[StoredEvent]] = iter,
) -> Verdict:
    """The log up to its sealed extent, against the stored checkpoints and those the auditor
    ``kept`` elsewhere: the log must still reach each of them, even if every event after an
    earlier one was deleted here with its seals and checkpoints. ``watch`` sees the events
    pass (a progress bar)."""
    upto, stored = sealed_extent(engine)
    kept = list(kept)
    upto = max([upto, *(c.position for c in kept)])
    events = watch(stored_events(recorder, upto))
    return verify_log(events, stored_seals(engine, upto), [*stored, *kept], trusted_keys)


def verify_stored_incident(
    recorder: ApplicationRecorder, engine: Engine, incident_id: UUID
) -> Verdict:
    upto, _ = sealed_extent(engine)  # first: every event up to it is in the read below
    rows = cast(IdempotentRecorder, recorder).positioned_events(incident_id)
    events = [StoredEvent(p, str(incident_id), v, t, s) for p, v, t, s in rows if p <= upto]
    seals = {s.position: s for s in stored_seals(engine, upto, str(incident_id))}
    return verify_incident(events, seals)
