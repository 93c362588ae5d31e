"""Tamper evidence: every stored event is sealed, in log order, by a hash over its stored bytes
that also covers the previous event of its incident, and a running digest over the whole log.

The sealer is a projection (exactly once, in log order, resumable) over the raw notifications,
so it hashes exactly the bytes the store holds. Seals are never rebuilt: a rebuild would bless
whatever the log holds now. Signed checkpoints of the digest (app/audit.py) let an auditor
prove that nothing before a checkpoint was changed, removed, reordered or inserted.
"""

import base64
import hashlib
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from projections.tables import metadata

GENESIS = ""
PROJECTION = "seals"  # the sealer's tracking row

event_seals = sa.Table(
    "event_seals",
    metadata,
    sa.Column("position", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("originator_id", sa.String(36), nullable=False),
    sa.Column("originator_version", sa.Integer, nullable=False),
    sa.Column("previous_hash", sa.String(64), nullable=False),
    sa.Column("event_hash", sa.String(64), nullable=False),
    sa.Column("log_digest", sa.String(64), nullable=False),
    sa.UniqueConstraint("originator_id", "originator_version"),
)


checkpoints = sa.Table(
    "checkpoints",
    metadata,
    sa.Column("position", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("log_digest", sa.String(64), nullable=False),
    sa.Column("signed_at", sa.String(40), nullable=False),
    sa.Column("public_key", sa.String(64), nullable=False),
    sa.Column("signature", sa.String(128), nullable=False),
)


@dataclass(frozen=True)
class StoredEvent:
    """An event as stored: what the seal covers."""

    position: int
    originator_id: str
    version: int
    topic: str
    state: bytes

    def as_json(self) -> dict[str, Any]:
        return {
            "position": self.position,
            "originator_id": self.originator_id,
            "version": self.version,
            "topic": self.topic,
            "state": base64.b64encode(self.state).decode(),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "StoredEvent":
        state = base64.b64decode(data["state"])
        return cls(data["position"], data["originator_id"], data["version"], data["topic"], state)


@dataclass(frozen=True)
class Seal:
    position: int
    originator_id: str
    version: int
    previous_hash: str
    event_hash: str
    log_digest: str


def event_hash(event: StoredEvent, previous_hash: str) -> str:
    """SHA-256 over a canonical JSON of the stored event and its incident's previous hash."""
    content = {
        "originator_id": event.originator_id,
        "version": event.version,
        "topic": event.topic,
        "state": hashlib.sha256(event.state).hexdigest(),
        "previous": previous_hash,
    }
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(canonical).hexdigest()


def next_digest(log_digest: str, hash_: str) -> str:
    return hashlib.sha256(f"{log_digest}{hash_}".encode()).hexdigest()


def chain(events: Iterable[StoredEvent]) -> Iterator[Seal]:
    """The seals the given events, from the start of the log and in log order, must have."""
    digest = GENESIS
    last_of: dict[str, str] = {}
    for event in events:
        previous = last_of.get(event.originator_id, GENESIS)
        hash_ = event_hash(event, previous)
        digest = next_digest(digest, hash_)
        last_of[event.originator_id] = hash_
        yield Seal(event.position, event.originator_id, event.version, previous, hash_, digest)


def seal_all(conn: Connection, batch: Sequence[tuple[StoredEvent, int]], _after: int) -> None:
    """Projection handler: seal a batch of raw events after the last one sealed. The chain's
    state is read once per batch and carried along, not queried per event."""
    c = event_seals.c
    digest = conn.execute(sa.select(c.log_digest).order_by(c.position.desc()).limit(1)).scalar()
    last_of = last_hashes(conn, {event.originator_id for event, _ in batch})
    rows = []
    for event, position in batch:
        previous = last_of.get(event.originator_id, GENESIS)
        hash_ = event_hash(event, previous)
        digest = next_digest(digest or GENESIS, hash_)
        last_of[event.originator_id] = hash_
        rows.append(
            {
                "position": position,
                "originator_id": event.originator_id,
                "originator_version": event.version,
                "previous_hash": previous,
                "event_hash": hash_,
                "log_digest": digest,
            }
        )
    if rows:
        conn.execute(sa.insert(event_seals), rows)


def last_hashes(conn: Connection, originators: set[str]) -> dict[str, str]:
    """The hash of each incident's newest sealed event."""
    c = event_seals.c
    newest = (
        sa.select(c.originator_id, sa.func.max(c.originator_version).label("version"))
        .where(c.originator_id.in_(originators))
        .group_by(c.originator_id)
        .subquery()
    )
    query = sa.select(c.originator_id, c.event_hash).join(
        newest,
        sa.and_(
            c.originator_id == newest.c.originator_id, c.originator_version == newest.c.version
        ),
    )
    return {row.originator_id: row.event_hash for row in conn.execute(query)}
