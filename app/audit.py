"""Verification of the log against its seals and against signed checkpoints (Ed25519).

Everything here is a pure function of events, seals and checkpoints, so the same code verifies
the live store and an exported bundle offline, with only the auditor's public key.
"""

import json
from collections.abc import Iterable, Iterator, Set
from dataclasses import asdict, dataclass
from datetime import datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from projections.seals import GENESIS, Seal, StoredEvent, chain, event_hash


@dataclass(frozen=True)
class Checkpoint:
    position: int
    log_digest: str
    signed_at: str
    public_key: str
    signature: str = ""

    def payload(self) -> bytes:
        content = {k: v for k, v in asdict(self).items() if k != "signature"}
        return json.dumps(content, sort_keys=True, separators=(",", ":")).encode()


@dataclass(frozen=True)
class Break:
    position: int
    reason: str


@dataclass(frozen=True)
class Verdict:
    """``signed_up_to``: the newest position a checkpoint signed by a trusted key vouches for.
    The events after it match their seals only, which anyone who can write the store can
    recompute; with no such checkpoint, nothing here is vouched for."""

    checked: int
    first_break: Break | None
    signed_up_to: int | None = None

    @property
    def ok(self) -> bool:
        return self.first_break is None


def public_key_of(private: Ed25519PrivateKey) -> str:
    return private.public_key().public_bytes_raw().hex()


def sign(private: Ed25519PrivateKey, position: int, log_digest: str, now: datetime) -> Checkpoint:
    unsigned = Checkpoint(position, log_digest, now.isoformat(), public_key_of(private))
    return Checkpoint(**{**asdict(unsigned), "signature": private.sign(unsigned.payload()).hex()})


def signature_holds(checkpoint: Checkpoint) -> bool:
    """Signed by the key it names (whether that key is trusted is the auditor's call)."""
    try:
        key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(checkpoint.public_key))
        key.verify(bytes.fromhex(checkpoint.signature), checkpoint.payload())
    except (InvalidSignature, ValueError):
        return False
    return True


def verify_log(
    events: Iterable[StoredEvent],
    seals: Iterable[Seal],
    checkpoints: Iterable[Checkpoint],
    trusted_keys: Set[str],
) -> Verdict:
    """Recompute the chain from the events; the first place where it differs from the seals
    or from a checkpoint signed by a trusted key is the first broken link. Several keys may
    be trusted, so checkpoints signed before a key was rotated still count. A checkpoint
    signed by another key vouches for nothing and is passed over; one whose signature does
    not hold for the key it names was altered."""
    due: dict[int, Checkpoint] = {}
    for checkpoint in sorted(checkpoints, key=lambda c: c.position):
        if not signature_holds(checkpoint):
            return Verdict(0, Break(checkpoint.position, "checkpoint signature is not valid"))
        if checkpoint.public_key not in trusted_keys:
            continue
        same = due.setdefault(checkpoint.position, checkpoint)
        if same.log_digest != checkpoint.log_digest:
            return Verdict(0, Break(checkpoint.position, "two signed checkpoints disagree"))
    checked = 0
    for found in compare(chain(events), iter(seals), list(due.values())):
        if found is not None:
            return Verdict(checked, found)
        checked += 1
    return Verdict(checked, None, max(due, default=None))


def compare(
    recomputed: Iterator[Seal], stored: Iterator[Seal], checkpoints: list[Checkpoint]
) -> Iterator[Break | None]:
    """Walk recomputed seals, stored seals and checkpoints in position order; one result (a
    Break or None) per event."""
    pending, due = next(stored, None), iter(checkpoints)
    checkpoint = next(due, None)
    versions: dict[str, int] = {}
    for seal in recomputed:
        while pending is not None and pending.position < seal.position:
            yield Break(pending.position, "a sealed event was removed")
            pending = next(stored, None)
        while checkpoint is not None and checkpoint.position < seal.position:
            yield Break(checkpoint.position, "the log has no event at a signed checkpoint")
            checkpoint = next(due, None)
        follows = versions.get(seal.originator_id, 0)
        versions[seal.originator_id] = seal.version
        if seal.version != follows + 1:
            yield Break(
                seal.position, f"version {seal.version} follows {follows}: forged or removed"
            )
            continue
        if pending is None or pending.position != seal.position:
            yield Break(seal.position, "an event that was never sealed was inserted")
            continue
        if (pending.originator_id, pending.version) != (seal.originator_id, seal.version):
            yield Break(seal.position, "the event here is not the one sealed here")
        elif pending.event_hash != seal.event_hash:
            yield Break(seal.position, "the event's content differs from its seal")
        elif checkpoint is not None and checkpoint.position == seal.position:
            matches = checkpoint.log_digest == seal.log_digest
            checkpoint = next(due, None)
            yield None if matches else Break(seal.position, "the digest differs from a checkpoint")
        else:
            yield None
        pending = next(stored, None)
    if pending is not None:
        yield Break(pending.position, "a sealed event was removed")
    if checkpoint is not None:
        yield Break(checkpoint.position, "the log ends before a signed checkpoint")


def verify_incident(events: Iterable[StoredEvent], seals: dict[int, Seal]) -> Verdict:
    """One incident: contiguous versions, each hash linked to the previous, each as sealed."""
    previous, checked, seen = GENESIS, 0, set()
    for checked, event in enumerate(events, start=1):
        seal = seals.get(event.position)
        if event.version != checked:
            return Verdict(checked, Break(event.position, f"version {checked} is missing"))
        if seal is None or seal.event_hash != event_hash(event, previous):
            return Verdict(
                checked, Break(event.position, "the event's content differs from its seal")
            )
        previous = seal.event_hash
        seen.add(event.position)
    if removed := set(seals) - seen:
        return Verdict(checked, Break(min(removed), "a sealed event of this incident was removed"))
    return Verdict(checked, None)
