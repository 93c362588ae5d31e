"""Rules of the five department policies as the built-in profiles give them, with no I/O: who
may do what, and what a step owes. Version 2 of a profile is in force from 2026-12-06
(``TODAY``); a step dated earlier is judged by version 1."""

from datetime import UTC, date, datetime, timedelta

from app.policy_files import load_directory
from domain.directory import PolicyBook
from domain.incident import Incident
from domain.values import (
    Actor,
    Decision,
    IncidentKind,
    Officer,
    RequestDetails,
    ResourceLine,
    ResponseDetails,
)

T0 = datetime(2026, 12, 6, 0, 30, tzinfo=UTC)
TODAY = PolicyBook(load_directory(), T0.date())
BEFORE = PolicyBook(load_directory(), date(2026, 12, 5))
BCSD = Actor("BCSD", "Dep. Hall", "deputy", "B-1")
CPD_OFFICER = Actor("CPD-MO", "Ofc. Park", "officer", "C-9")
WHY = "The deputy is struggling with a suspect resisting arrest"


def ask(agency: str, emergency: str | None = None, transport: bool = False) -> RequestDetails:
    line = (ResourceLine("patrol_officer", 1),)
    return RequestDetails(
        agency,
        line,
        T0,
        "Providence Rd",
        "Dep. Hall",
        "suspect resisting arrest",
        emergency_justification=emergency,
        arrestee_transport=transport,
    )


def answer(agency: str, emergency: str | None = None) -> ResponseDetails:
    officer = Officer("Ofc. One", f"{agency}-1", agency)
    line = (ResourceLine("patrol_officer", 1),)
    return ResponseDetails(
        Decision.ACCEPTED, "one car close by", line, (officer,), officer, emergency
    )


def opened(requester: Actor, request: RequestDetails, book: PolicyBook = TODAY) -> Incident:
    return Incident.open(
        case_number="C-1",
        nature="arrest",
        kind=IncidentKind.EMERGENCY,
        location="Providence Rd",
        request=request,
        actor=requester,
        occurred_at=T0,
        book=book,
    )


def later(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def test_the_obligations_of_a_response_are_tied_to_its_request() -> None:
    incident = opened(BCSD, ask("CPD-MO"))

    incident.respond(1, answer("CPD-MO", emergency=WHY), CPD_OFFICER, later(5), TODAY)

    owed = [state.obligation for state in incident.obligations.values()]
    assert [(o.kind, o.request_number) for o in owed] == [("notify", 1), ("report", 1)]
