"""Audit bundles: the log, its seals and its signed checkpoints as JSON Lines, verifiable
offline with the CLI and the auditor's public key alone."""

import json
from collections.abc import Iterable, Iterator
from dataclasses import asdict
from typing import IO, Any

from eventsourcing.persistence import ApplicationRecorder
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


def verify_bundle(lines: Iterable[str], trusted_key: str) -> Verdict:
    events: list[StoredEvent] = []
    seals: list[Seal] = []
    checkpoints: list[Checkpoint] = []
    for record in read(lines):
        if "event" in record:
            events.append(StoredEvent.from_json(record["event"]))
        elif "seal" in record:
            seals.append(Seal(**record["seal"]))
        else:
            checkpoints.append(Checkpoint(**record["checkpoint"]))
    events.sort(key=lambda e: e.position)
    seals.sort(key=lambda s: s.position)
    return verify_log(events, seals, checkpoints, trusted_key)


def read(lines: Iterable[str]) -> Iterator[dict[str, dict[str, Any]]]:
    for line in lines:
        if line.strip():
            yield json.loads(line)
