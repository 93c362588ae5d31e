"""Two ledgers on one store, as two API processes: each keeps the incidents it wrote in memory
and runs commands against them without loading them. A command sent to the one whose
memory is behind is still judged on the store's newest state, and stored after it."""

from collections.abc import Iterator
from typing import Any
from uuid import UUID

import pytest

from app.ledger import Context, MutualAidLedger
from app.services import build_services
from app.settings import Settings
from domain.errors import RuleViolation
from domain.incident import Incident
from tests.integration.test_group_commit import writer_held
from tests.scenarios import REQUESTER, RESPONDER, T0, open_incident, partial_response


@pytest.fixture
def two_ledgers(settings: Settings) -> Iterator[tuple[MutualAidLedger, MutualAidLedger]]:
    first = build_services(settings)
    second = build_services(settings)
    try:
        yield first.ledger, second.ledger
    finally:
        first.close()
        second.close()


def versions(ledger: MutualAidLedger, incident: UUID) -> list[int]:
    return [event.originator_version for event in ledger.events.get(incident)]


def test_a_command_the_stale_state_refuses_is_accepted_by_the_newest(
    two_ledgers: tuple[MutualAidLedger, MutualAidLedger],
) -> None:
    behind, ahead = two_ledgers
    incident = open_incident(behind, "K-1")  # cached by `behind` before approval
    approved = ahead.approve(incident, 1, Context(REQUESTER, T0)).result().version

    written = behind.respond(incident, 1, partial_response(), Context(RESPONDER, T0)).result()

    assert written.version == approved + 1
    assert versions(ahead, incident) == list(range(1, approved + 2))


def test_a_command_on_stale_state_is_stored_after_the_newer_events(
    two_ledgers: tuple[MutualAidLedger, MutualAidLedger],
) -> None:
    behind, ahead = two_ledgers
    incident = open_incident(behind, "K-1")
    behind.approve(incident, 1, Context(REQUESTER, T0)).result()
    behind.respond(incident, 1, partial_response(), Context(RESPONDER, T0)).result()
    first = ahead.record_involvement(
        incident, 1, "D-0", "first", "", Context(RESPONDER, T0)
    ).result()

    written = behind.record_involvement(
        incident, 1, "D-1", "second", "", Context(RESPONDER, T0)
    ).result()

    assert written.version == first.version + 1
    notes = list(ahead.events.get(incident, gt=first.version - 1))
    recorded = [n.involvement for n in notes if isinstance(n, Incident.InvolvementRecorded)]
    assert (len(notes), recorded) == (2, ["first", "second"])


def test_if_match_is_checked_against_the_newest_version(
    two_ledgers: tuple[MutualAidLedger, MutualAidLedger],
) -> None:
    behind, ahead = two_ledgers
    incident = open_incident(behind, "K-1")
    approved = ahead.approve(incident, 1, Context(REQUESTER, T0)).result().version

    if_match = Context(RESPONDER, T0, expected_version=approved)
    written = behind.respond(incident, 1, partial_response(), if_match).result()

    assert written.version == approved + 1


def test_a_refusal_of_the_newest_state_stands(
    two_ledgers: tuple[MutualAidLedger, MutualAidLedger],
) -> None:
    behind, ahead = two_ledgers
    incident = open_incident(behind, "K-1")
    behind.approve(incident, 1, Context(REQUESTER, T0)).result()
    responded = (
        ahead.respond(incident, 1, partial_response(), Context(RESPONDER, T0)).result().version
    )

    with pytest.raises(RuleViolation):
        behind.respond(incident, 1, partial_response(), Context(RESPONDER, T0)).result()
    assert versions(ahead, incident)[-1] == responded


def test_memory_behind_is_brought_up_to_date_with_the_newer_events_not_reloaded(
    two_ledgers: tuple[MutualAidLedger, MutualAidLedger], monkeypatch: pytest.MonkeyPatch
) -> None:
    behind, ahead = two_ledgers
    incidents = [open_incident(behind, f"K-{n}") for n in range(3)]
    responded = []
    for incident in incidents:
        ahead.approve(incident, 1, Context(REQUESTER, T0)).result()
        responded.append(
            ahead.respond(incident, 1, partial_response(), Context(RESPONDER, T0)).result()
        )
    loads = spy_on_loads(behind, monkeypatch)

    note = Context(RESPONDER, T0)
    with writer_held(behind):  # the three in one batch, brought up to date together
        pending = [behind.record_involvement(i, 1, "D-0", "held", "", note) for i in incidents]
    written = [p.result(10) for p in pending]

    assert loads == []
    assert [w.version for w in written] == [r.version + 1 for r in responded]
    for incident in incidents:
        assert behind.load(incident).requests[1] == ahead.load(incident).requests[1]


def test_memory_that_cannot_be_brought_up_to_date_is_reloaded(
    two_ledgers: tuple[MutualAidLedger, MutualAidLedger], monkeypatch: pytest.MonkeyPatch
) -> None:
    behind, ahead = two_ledgers
    incident = open_incident(behind, "K-1")
    approved = ahead.approve(incident, 1, Context(REQUESTER, T0)).result()
    loads = spy_on_loads(behind, monkeypatch)
    decode = behind.mapper.to_domain_event
    faults = iter([ValueError("cannot decode")])

    def failing_once(stored: object) -> object:
        if fault := next(faults, None):
            raise fault
        return decode(stored)  # type: ignore[arg-type]

    monkeypatch.setattr(behind.mapper, "to_domain_event", failing_once)
    written = behind.respond(incident, 1, partial_response(), Context(RESPONDER, T0)).result()

    assert loads == [incident]
    assert written.version == approved.version + 1


def spy_on_loads(ledger: MutualAidLedger, monkeypatch: pytest.MonkeyPatch) -> list[object]:
    loads: list[object] = []
    load = ledger.load

    def counting(incident_id: Any) -> Any:
        loads.append(incident_id)
        return load(incident_id)

    monkeypatch.setattr(ledger, "load", counting)
    return loads
