"""Histories written straight through the ledger (no HTTP), for store and projection tests."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from uuid import UUID

from app.ledger import Context, MutualAidLedger
from domain.corrections import Correctable
from domain.values import (
    Actor,
    Decision,
    IncidentKind,
    Officer,
    RequestDetails,
    ResourceLine,
    ResponseDetails,
    Withdrawal,
)

T0 = datetime(2026, 11, 1, 2, 0, tzinfo=UTC)
REQUESTER = Actor("KPD", "Sgt. Dana Ruiz", "sergeant", "412")
RESPONDER = Actor("KCSD", "Lt. Ben Ortiz", "lieutenant", "77")


def ask(agency: str = "KCSD", officers: int = 4) -> RequestDetails:
    return RequestDetails(
        agency=agency,
        resources=(ResourceLine("patrol_officer", officers),),
        needed_at=T0 + timedelta(minutes=15),
        location="52nd St & Sheridan Rd",
        report_to="Lt. Carla Moss",
        facts="Crowd of about 300",
    )


def open_incident(
    ledger: MutualAidLedger, case_number: str, by: Actor = REQUESTER, asked: str = "KCSD"
) -> UUID:
    return (
        ledger.open_incident(
            Context(by, T0),
            case_number=case_number,
            nature="Civil disturbance",
            kind=IncidentKind.EMERGENCY,
            location="Downtown",
            request=ask(asked),
        )
        .result()
        .incident_id
    )


def partial_response(badges: int = 2) -> ResponseDetails:
    return ResponseDetails(
        decision=Decision.PARTIALLY_ACCEPTED,
        facts="Two deputies free",
        resources=(ResourceLine("patrol_officer", badges),),
        officers=tuple(Officer(f"Deputy {n}", f"D-{n}", "KCSD") for n in range(badges)),
    )


def full_incident(ledger: MutualAidLedger, case_number: str, close: bool = True) -> int:
    """Open, approve, respond, recall one officer, note involvement, maybe close.
    Returns the last log position written."""
    incident = open_incident(ledger, case_number)
    at = T0 + timedelta(minutes=1)
    requester, responder = Context(REQUESTER, at), Context(RESPONDER, at)
    ledger.approve(incident, 1, requester).result()
    ledger.respond(incident, 1, partial_response(), responder).result()
    recall = Withdrawal((ResourceLine("patrol_officer", 1),), ("D-1",), "needed back")
    ledger.recall(incident, 1, recall, responder).result()
    written = ledger.record_involvement(incident, 1, "D-0", "held the line", "", responder).result()
    if close:
        written = ledger.close_incident(incident, "dispersed", True, requester).result()
    return written.position


def every_kind_of_event(ledger: MutualAidLedger, case_number: str) -> None:
    """One incident with every event type the projection handles, and an activity report."""
    incident = open_incident(ledger, case_number)
    at = T0 + timedelta(minutes=1)
    requester, responder = Context(REQUESTER, at), Context(RESPONDER, at)
    ledger.approve(incident, 1, requester).result()
    first, second = partial_response().officers
    ledger.respond(incident, 1, replace(partial_response(), officers=(first,)), responder).result()
    ledger.name_officers(incident, 1, (second,), responder).result()
    ledger.record_arrival(incident, 1, responder).result()
    ledger.record_involvement(incident, 1, "D-0", "held the line", "", responder).result()
    ledger.record_involvement(incident, 1, "D-0", "made an arrest", "calm", responder).result()
    one = (ResourceLine("patrol_officer", 1),)
    ledger.recall(incident, 1, Withdrawal(one, ("D-1",), "needed back"), responder).result()
    ledger.release(incident, 1, Withdrawal(one, ("D-0",), "scene calm"), requester).result()
    ledger.request_assistance(incident, ask("PPPD"), requester).result()
    ledger.cancel(incident, 2, "no longer needed", requester).result()
    ledger.correct(incident, Correctable.NATURE, None, "Riot", "typo", requester).result()
    ledger.correct(
        incident, Correctable.REQUEST_FACTS, 1, "About 400", "recount", requester
    ).result()
    for owed in ledger.load(incident).obligations.values():
        party = requester if owed.obligation.party == REQUESTER.agency else responder
        if owed.outstanding:
            ledger.fulfil(incident, owed.obligation.number, (), "done", party).result()
    ledger.close_incident(incident, "dispersed", True, requester).result()
    ledger.report_activity(
        requester,
        case_number=f"{case_number}-A",
        nature="Pursuit",
        location="Hwy 50",
        jurisdiction="PPPD",
    ).result()


def snapshot_versions(ledger: MutualAidLedger, incident_id: UUID) -> list[int]:
    assert ledger.snapshots is not None
    return [s.originator_version for s in ledger.snapshots.get(incident_id)]
