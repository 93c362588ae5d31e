"""Rules of the five department policies as the built-in profiles give them, with no I/O: who
may do what, and what a step owes. Version 2 of a profile is in force from 2026-12-06
(``TODAY``); a step dated earlier is judged by version 1."""

from datetime import UTC, date, datetime, timedelta

import pytest

from app.policy_files import load_directory
from domain.directory import PolicyBook
from domain.incident import Incident
from domain.policy import PolicyViolation
from domain.values import (
    Actor,
    Decision,
    IncidentKind,
    Officer,
    RequestDetails,
    ResourceLine,
    ResponseDetails,
)
from tests.unit.test_incident import refuses

T0 = datetime(2026, 12, 6, 0, 30, tzinfo=UTC)
TODAY = PolicyBook(load_directory(), T0.date())
BEFORE = PolicyBook(load_directory(), date(2026, 12, 5))
BCSD = Actor("BCSD", "Dep. Hall", "deputy", "B-1")
CPD_OFFICER = Actor("CPD-MO", "Ofc. Park", "officer", "C-9")
RESPONDED = Incident.ResponseRecorded
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


def test_columbia_352_2_a_field_officer_may_answer_a_request_for_arrestee_transport() -> None:
    """352.2 transports arrestees "only in exceptional circumstances" and names no rank for it
    (a supervisor's approval is Alsip 205.3's rule): version 1 wrongly asked for a sergeant."""
    response = answer("CPD-MO", emergency=WHY)
    before = opened(BCSD, ask("CPD-MO", transport=True), BEFORE)
    refuses(
        before, PolicyViolation, lambda i: i.respond(1, response, CPD_OFFICER, later(5), BEFORE)
    )
    incident = opened(BCSD, ask("CPD-MO", transport=True))

    incident.respond(1, response, CPD_OFFICER, later(5), TODAY)

    owed = [state.obligation for state in incident.obligations.values()]
    assert [(o.kind, o.recipients) for o in owed] == [
        ("notify", ("Supervisor",)),
        ("report", ("Records (case number)",)),
    ]
    assert {o.rule.version for o in owed} == {2}


ALSIP_OFFICER = Actor("ALSIP-PD", "Ofc. Ray", "officer", "A-1")
GENERAL_CASE_REPORT = ("report", ("General case report (or as the Patrol Sergeant directs)",))


def test_alsip_205_5_outside_assistance_requested_is_documented_in_a_general_case_report() -> None:
    incident = opened(ALSIP_OFFICER, ask("WORTH-PD"))

    owed = [state.obligation for state in incident.obligations.values()]
    assert [(o.kind, o.recipients) for o in owed] == [
        ("notify", ("Supervisor",)),
        GENERAL_CASE_REPORT,
    ]
    assert owed[1].rule.section.startswith("Alsip 205.5: Incidents of outside assistance or law")


def test_alsip_205_5_initiated_activity_is_documented_in_a_general_case_report() -> None:
    incident = Incident.report_activity(
        case_number="A-1",
        nature="pursuit ended next door",
        location="111th St",
        jurisdiction="WORTH-PD",
        actor=ALSIP_OFFICER,
        occurred_at=T0,
        book=TODAY,
    )

    owed = [state.obligation for state in incident.obligations.values()]
    assert [(o.kind, o.rule.section.split(":")[0]) for o in owed] == [
        ("notify", "Alsip 205.3.1"),
        ("report", "Alsip 205.5"),
    ]


def test_oconomowoc_v_c_waukesha_county_communications_determines_the_units_sent() -> None:
    wcsd = Actor("WCSD", "Sgt. Lee", "sergeant", "W-1")
    dispatcher = Actor("OPD-WI", "Disp. Kay", "dispatcher", "O-9", ("communications_center",))
    incident = opened(wcsd, ask("OPD-WI"))

    incident.respond(1, answer("OPD-WI"), dispatcher, later(5), TODAY)

    [responded] = [e for e in incident.collect_events() if isinstance(e, RESPONDED)]
    assert responded.authority.section == (
        "Oconomowoc V.C: The shift Supervisor/OIC shall aid WCC in determining which units "
        "will be sent to assist an agency requesting assistance"
    )


KENOSHA_COMMAND_STAFF = ("Chief of Police", "Deputy Assistant Chief", "Inspector of Police")


@pytest.mark.parametrize(
    ("roles", "told"),
    [
        (("patrol_shift_commander",), KENOSHA_COMMAND_STAFF),
        ((), (*KENOSHA_COMMAND_STAFF, "Patrol Shift Commander")),
    ],
    ids=["made by the patrol shift commander", "made by another supervisor"],
)
def test_kenosha_iv_b_the_patrol_shift_commander_is_not_told_of_their_own_request(
    roles: tuple[str, ...], told: tuple[str, ...]
) -> None:
    lieutenant = Actor("KPD", "Lt. Hale", "lieutenant", "300", roles)

    incident = opened(lieutenant, ask("KCSD"))

    [owed] = [state.obligation for state in incident.obligations.values()]
    assert owed.recipients == told


def test_kenosha_iv_b_the_patrol_shift_commander_is_not_told_of_their_own_response() -> None:
    racine = Actor("RACINE-PD", "Sgt. Moe", "sergeant", "R-1")
    commander = Actor("KPD", "Lt. Hale", "lieutenant", "300", ("patrol_shift_commander",))
    incident = opened(racine, ask("KPD"))

    incident.respond(1, answer("KPD"), commander, later(5), TODAY)

    [owed] = [state.obligation for state in incident.obligations.values()]
    assert owed.recipients == KENOSHA_COMMAND_STAFF
