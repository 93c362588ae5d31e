"""Audit reads of the event log while the incident or the log is being written: each read
covers a consistent part of the log, and what lands meanwhile is left for the next read."""

from collections.abc import Callable
from datetime import timedelta
from typing import Any
from uuid import UUID

import pytest

from app.ledger import Context, MutualAidLedger
from app.services import Services
from tests.scenarios import REQUESTER, T0, open_incident


def approve(ledger: MutualAidLedger, incident: UUID) -> None:
    ledger.approve(incident, 1, Context(REQUESTER, T0 + timedelta(minutes=1))).result()


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
