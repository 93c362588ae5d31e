"""Reads what verification needs from the stores, streaming, and keeps checkpoints."""

from collections.abc import Iterator
from dataclasses import asdict
from datetime import UTC, datetime
from typing import cast
from uuid import UUID

import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from eventsourcing.persistence import ApplicationRecorder
from sqlalchemy.engine import Engine

from app.audit import Checkpoint, Verdict, public_key_of, sign, verify_incident, verify_log
from app.store import IdempotentRecorder, state_bytes
from projections.seals import Seal, StoredEvent, checkpoints, event_seals

BATCH = 1000


def stored_events(recorder: ApplicationRecorder) -> Iterator[StoredEvent]:
    start = 0
    while batch := recorder.select_notifications(start, BATCH, inclusive_of_start=False):
        for n in batch:
            state = state_bytes(n.state)
            yield StoredEvent(n.id, str(n.originator_id), n.originator_version, n.topic, state)
        start = batch[-1].id


def stored_seals(engine: Engine, originator_id: str | None = None) -> Iterator[Seal]:
    c, after = event_seals.c, 0
    while True:
        query = sa.select(event_seals).where(c.position > after).order_by(c.position).limit(BATCH)
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


def verify_store(recorder: ApplicationRecorder, engine: Engine, trusted_key: str) -> Verdict:
    return verify_log(
        stored_events(recorder), stored_seals(engine), load_checkpoints(engine), trusted_key
    )


def verify_stored_incident(
    recorder: ApplicationRecorder, engine: Engine, incident_id: UUID
) -> Verdict:
    rows = cast(IdempotentRecorder, recorder).positioned_events(incident_id)
    events = [StoredEvent(p, str(incident_id), v, t, s) for p, v, t, s in rows]
    seals = {s.position: s for s in stored_seals(engine, str(incident_id))}
    return verify_incident(events, seals)


def trusted_key_of(private: Ed25519PrivateKey | None) -> str:
    return public_key_of(private) if private else ""
