"""Audit reads of the event log while the incident or the log is being written: each read
covers a consistent part of the log, and what lands meanwhile is left for the next read."""

from collections.abc import Callable
from datetime import timedelta
from typing import Any
from uuid import UUID

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from app.audit import public_key_of
from app.audit_store import make_checkpoint, verify_store, verify_stored_incident
from app.bundle import bundle_lines, verify_bundle
from app.ledger import Context, MutualAidLedger
from app.services import Services
from tests.scenarios import REQUESTER, T0, open_incident


def approve(ledger: MutualAidLedger, incident: UUID) -> None:
    ledger.approve(incident, 1, Context(REQUESTER, T0 + timedelta(minutes=1))).result()


def seal_and_sign(services: Services, key: Ed25519PrivateKey) -> None:
    services.catch_up_seals()
    make_checkpoint(services.read_models, key)


def written_once_after(read: Callable[..., Any], write: Callable[[], None]) -> Callable[..., Any]:
    """``read``, with ``write`` run once just after its first call has read the store."""
    pending = [write]

    def read_then_write(*args: Any, **kwargs: Any) -> Any:
        found = read(*args, **kwargs)
        while pending:
            pending.pop()()
        return found

    return read_then_write


def test_history_holds_the_events_of_one_read_while_the_incident_is_written(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger = services.ledger
    incident = open_incident(ledger, "K-1")
    recorder: Any = ledger.recorder
    reading = written_once_after(recorder.positioned_events, lambda: approve(ledger, incident))
    monkeypatch.setattr(recorder, "positioned_events", reading)

    during, _ = ledger.positioned_history(incident, None)
    after, _ = ledger.positioned_history(incident, None)

    assert [(e.originator_version, p) for e, p in during] == [(1, 1), (2, 2)]
    assert [(e.originator_version, p) for e, p in after] == [(1, 1), (2, 2), (3, 3)]


def test_events_written_after_the_seals_are_left_out_not_reported_as_inserted(
    services: Services,
) -> None:
    key = Ed25519PrivateKey.generate()
    ledger, read_models = services.ledger, services.read_models
    incident = open_incident(ledger, "K-1")
    seal_and_sign(services, key)
    approve(ledger, incident)  # lands after the verification waited for the seals

    whole = verify_store(ledger.recorder, read_models, {public_key_of(key)})
    one = verify_stored_incident(ledger.recorder, read_models, incident)
    bundle = verify_bundle(bundle_lines(ledger.recorder, read_models), {public_key_of(key)})

    assert [(v.first_break, v.checked) for v in (whole, one, bundle)] == [(None, 2)] * 3


def test_a_bundle_verifies_when_the_log_is_sealed_and_signed_further_while_it_streams(
    services: Services,
) -> None:
    key = Ed25519PrivateKey.generate()
    ledger = services.ledger
    incident = open_incident(ledger, "K-1")
    seal_and_sign(services, key)
    lines = bundle_lines(ledger.recorder, services.read_models)
    streamed = [next(lines) for _ in range(3)]  # the two events and the first seal

    approve(ledger, incident)
    seal_and_sign(services, key)
    verdict = verify_bundle([*streamed, *lines], {public_key_of(key)})

    assert (verdict.first_break, verdict.checked) == (None, 2)
