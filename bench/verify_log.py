"""Benchmark: seal and verify a log of N events on SQLite, and run the CLI verification with
its progress bar over the same store. Writes the figures to a results file.

    .venv/bin/python -m bench.verify_log --events 100000 --results bench/RESULTS.md
"""

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pydantic import SecretStr

from app.audit import public_key_of
from app.audit_store import make_checkpoint, stored_events, verify_store
from app.services import build_services
from app.settings import Settings
from bench.results import write_section
from domain.incident import Incident
from tests.scenarios import REQUESTER, RESPONDER, T0, ask, partial_response

EVENTS_PER_INCIDENT = 100


def fill(services: object, events: int) -> None:
    """Incidents of 100 events each, saved in one go per incident (fast to write)."""
    ledger = services.ledger  # type: ignore[attr-defined]
    for n in range(events // EVENTS_PER_INCIDENT):
        ledger.save(incident_of(ledger, f"B-{n}", EVENTS_PER_INCIDENT))


def incident_of(ledger: Any, case_number: str, events: int) -> Incident:
    """An incident of ``events`` events: opened, approved, answered, then involvement notes."""
    book = ledger.book(T0)
    incident = Incident.open(
        case_number=case_number,
        nature="bench",
        kind="emergency",
        location="x",
        request=ask(),
        actor=REQUESTER,
        occurred_at=T0,
        book=book,
    )
    incident.approve(1, REQUESTER, T0, book)
    incident.respond(1, partial_response(), RESPONDER, T0, book)
    for note in range(events - 4):
        at = T0 + timedelta(seconds=note)
        incident.record_involvement(1, "D-0", f"note {note}", "", RESPONDER, at)
    return incident


def rate(count: int, seconds: float) -> str:
    return f"{count / seconds:,.0f} events/s ({count:,} events in {seconds:.1f} s)"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--results", type=Path)
    args = parser.parse_args()
    key = Ed25519PrivateKey.generate()
    data = Path(tempfile.mkdtemp(prefix="mal-bench-"))
    settings = Settings(data_dir=data, signing_key=SecretStr(key.private_bytes_raw().hex()))
    services = build_services(settings)

    start = time.perf_counter()
    fill(services, args.events)
    written = time.perf_counter() - start
    total = services.ledger.recorder.max_notification_id() or 0

    start = time.perf_counter()
    decoded = sum(1 for _ in stored_events(services.ledger.recorder))
    read = time.perf_counter() - start

    start = time.perf_counter()
    services.sealer.run_until_caught_up()
    sealed = time.perf_counter() - start
    make_checkpoint(services.read_models, key)

    start = time.perf_counter()
    verdict = verify_store(services.ledger.recorder, services.read_models, {public_key_of(key)})
    verified = time.perf_counter() - start
    services.close()
    assert verdict.ok, verdict
    assert verdict.checked == decoded == total, verdict

    env = {**os.environ, "MAL_DATA_DIR": str(data)}
    start = time.perf_counter()
    cli = Path(sys.executable).parent / "mutual-aid"
    done = subprocess.run(
        [cli, "verify", "--public-key", public_key_of(key)], env=env, capture_output=True, text=True
    )
    by_cli = time.perf_counter() - start
    assert done.returncode == 0, done.stderr

    lines = [
        f"## Log verification ({datetime.now(UTC):%Y-%m-%d}, {platform.machine()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}, SQLite)",
        "",
        "| step | rate |",
        "|---|---|",
        f"| write (100 events per save) | {rate(total, written)} |",
        f"| read the raw log (select_notifications) | {rate(decoded, read)} |",
        f"| seal (hash chain projection) | {rate(total, sealed)} |",
        f"| verify against seals and a signed checkpoint | {rate(total, verified)} |",
        f"| `mutual-aid verify` (CLI, progress bar, incl. start) | {rate(total, by_cli)} |",
        "",
        f"Verification runs at {verified / read:.1f}x the time of just reading the log.",
        "",
    ]
    report = "\n".join(lines)
    print(report)
    if args.results:
        write_section(args.results, "bench.verify_log", report)


if __name__ == "__main__":
    main()
