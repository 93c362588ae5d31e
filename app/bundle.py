"""Audit bundles: the log, its seals and its signed checkpoints as JSON Lines, verifiable
offline with the CLI and the auditor's public key alone."""

import json
from collections.abc import Iterable, Iterator, Set
from dataclasses import asdict, dataclass
from typing import IO

from eventsourcing.persistence import ApplicationRecorder
from pydantic import TypeAdapter
from sqlalchemy.engine import Engine

from app.audit import Checkpoint, Verdict, verify_log
from app.audit_store import sealed_extent, stored_events, stored_seals
from projections.seals import Seal, StoredEvent


def bundle_lines(recorder: ApplicationRecorder, engine: Engine) -> Iterator[str]:
    """Streamed: memory stays flat however long the log. The log up to its sealed extent:
    what is written while it streams is left for the next bundle."""
    upto, checkpoints = sealed_extent(engine)
    for event in stored_events(recorder, upto):
        yield json.dumps({"event": event.as_json()}) + "\n"
    for seal in stored_seals(engine, upto):
        yield json.dumps({"seal": asdict(seal)}) + "\n"
    for checkpoint in checkpoints:
        yield json.dumps({"checkpoint": asdict(checkpoint)}) + "\n"


def write_bundle(out: IO[str], recorder: ApplicationRecorder, engine: Engine) -> None:
    out.writelines(bundle_lines(recorder, engine))


@dataclass(frozen=True)
class EventRecord:
    """An event's line as written (its state in base64), checked before it is decoded."""

    position: int
    originator_id: str
    version: int
    topic: str
    state: str  # base64


EVENT, SEAL, CHECKPOINT = TypeAdapter(EventRecord), TypeAdapter(Seal), TypeAdapter(Checkpoint)


class BadBundle(ValueError):
    """A line that is not a record of a bundle: named, rather than a traceback."""


def verify_bundle(
    lines: Iterable[str], trusted_keys: Set[str], kept: Iterable[Checkpoint] = ()
) -> Verdict:
    """``kept``: checkpoints the auditor kept elsewhere, which the bundle must reach."""
    events: list[StoredEvent] = []
    seals: list[Seal] = []
    checkpoints = list(kept)
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            ((kind, record),) = json.loads(line).items()
            if kind == "event":
                events.append(StoredEvent.from_json(asdict(EVENT.validate_python(record))))
            elif kind == "seal":
                seals.append(SEAL.validate_python(record))
            elif kind == "checkpoint":
                checkpoints.append(CHECKPOINT.validate_python(record))
            else:
                raise ValueError(kind)
        except (ValueError, AttributeError) as error:
            raise BadBundle(f"line {number} is not an event, a seal or a checkpoint") from error
    events.sort(key=lambda e: e.position)
    seals.sort(key=lambda s: s.position)
    return verify_log(events, seals, checkpoints, trusted_keys)
