"""An event read back from the store equals the event saved: its own fields come back with
their declared types (enums, tuples), not as the JSON strings and lists they are stored as."""

import pytest

from app.ledger import MutualAidLedger
from app.services import Services
from domain.incident import Incident
from domain.values import IncidentKind
from tests.scenarios import REQUESTER, RESPONDER, T0, ask, partial_response


@pytest.fixture
def ledger(services: Services) -> MutualAidLedger:
    return services.ledger


def test_every_event_reads_back_equal_to_the_event_saved(ledger: MutualAidLedger) -> None:
    book = ledger.book(T0)
    incident = Incident.open(
        case_number="RT-1",
        nature="Civil disturbance",
        kind=IncidentKind.EMERGENCY,
        location="Downtown",
        request=ask(),
        actor=REQUESTER,
        occurred_at=T0,
        book=book,
    )
    incident.approve(1, REQUESTER, T0, book)
    incident.respond(1, partial_response(), RESPONDER, T0, book)
    owed = next(iter(incident.obligations.values())).obligation
    incident.fulfil(owed.number, owed.recipients[:1], "called", REQUESTER, T0)
    saved = list(incident.pending_events)

    ledger.save(incident)

    assert list(ledger.events.get(incident.id)) == saved


def test_an_activity_report_reads_back_with_its_obligations(ledger: MutualAidLedger) -> None:
    incident = Incident.report_activity(
        case_number="RT-2",
        nature="Pursuit",
        location="Hwy 50",
        jurisdiction="PPPD",
        actor=REQUESTER,
        occurred_at=T0,
        book=ledger.book(T0),
    )
    saved = list(incident.pending_events)

    ledger.save(incident)

    assert list(ledger.events.get(incident.id)) == saved
