"""Whether assistance waits for an approval is the requesting agency's policy: Kenosha IV.A has
a supervisor make or approve the request before the assistance; Alsip 205.4 and Columbia 352.3
ask for a supervisor notice instead; Minneapolis and Oconomowoc have the authorized official
make the request. Profiles are the built-in ones."""

from datetime import UTC, date, datetime, timedelta

import pytest

from app.policy_files import load_directory
from domain.directory import PolicyBook
from domain.errors import RuleViolation
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

T0 = datetime(2026, 11, 1, 2, 0, tzinfo=UTC)
BOOK = PolicyBook(load_directory(), date(2026, 11, 1))
KPD_OFFICER = Actor("KPD", "Ofc. Ruiz", "officer", "412")
KPD_SERGEANT = Actor("KPD", "Sgt. Cole", "sergeant", "200")
KCSD = Actor("KCSD", "Lt. Ortiz", "lieutenant", "77")
REQUESTED, APPROVED = Incident.AssistanceRequested, Incident.RequestApproved


def ask(agency: str, emergency: str | None = None) -> RequestDetails:
    line = (ResourceLine("patrol_officer", 2),)
    return RequestDetails(
        agency, line, T0, "here", "Lt. Moss", "crowd", emergency_justification=emergency
    )


def sent(agency: str) -> ResponseDetails:
    officers = tuple(Officer(f"Officer {n}", f"{agency}-{n}", agency) for n in range(2))
    in_charge = Officer("Sgt. Boss", f"{agency}-S", agency, "sergeant")
    line = (ResourceLine("patrol_officer", 2),)
    return ResponseDetails(Decision.ACCEPTED, "spare units", line, officers, in_charge)


def opened(requester: Actor, request: RequestDetails) -> Incident:
    return Incident.open(
        case_number="C-1",
        nature="disturbance",
        kind=IncidentKind.EMERGENCY,
        location="downtown",
        request=request,
        actor=requester,
        occurred_at=T0,
        book=BOOK,
    )


def minutes(n: int) -> datetime:
    return T0 + timedelta(minutes=n)


# -- Kenosha IV.A: made or approved by a supervisor prior to the assistance ----------------------


def test_kenosha_iv_a_an_officers_request_is_not_answered_before_a_supervisor_approves() -> None:
    incident = opened(KPD_OFFICER, ask("KCSD"))

    refuses(incident, PolicyViolation, lambda i: i.respond(1, sent("KCSD"), KCSD, minutes(5), BOOK))
    incident.approve(1, KPD_SERGEANT, minutes(2), BOOK)
    incident.respond(1, sent("KCSD"), KCSD, minutes(5), BOOK)


def test_kenosha_iv_a_an_unapproved_request_may_be_declined_a_decline_renders_nothing() -> None:
    incident = opened(KPD_OFFICER, ask("KCSD"))
    declined = ResponseDetails(Decision.DECLINED, "every deputy is on a crash on I-94")

    incident.respond(1, declined, KCSD, minutes(5), BOOK)

    assert incident.requests[1].status == "declined"
    refuses(incident, RuleViolation, lambda i: i.approve(1, KPD_SERGEANT, minutes(6), BOOK))


def test_kenosha_iv_a_an_approval_dated_after_the_assistance_does_not_cover_it() -> None:
    incident = opened(KPD_OFFICER, ask("KCSD"))
    incident.approve(1, KPD_SERGEANT, minutes(120), BOOK)
    before = len(incident.pending_events)

    with pytest.raises(PolicyViolation, match=r"approved at 2026-11-01T04:00:00\+00:00, after"):
        incident.respond(1, sent("KCSD"), KCSD, minutes(5), BOOK)

    assert len(incident.pending_events) == before
    incident.respond(1, sent("KCSD"), KCSD, minutes(120), BOOK)


def test_kenosha_iv_a_a_request_made_by_a_supervisor_is_approved_as_it_is_made() -> None:
    incident = opened(KPD_SERGEANT, ask("KCSD"))

    incident.respond(1, sent("KCSD"), KCSD, T0, BOOK)

    [requested] = [e for e in incident.collect_events() if isinstance(e, REQUESTED)]
    assert requested.authority.section == (
        "Kenosha 2.1 IV.A: made by a supervisor (III.B: Sergeant or higher), "
        "so approved as it is made"
    )


def test_kenosha_an_approval_of_a_request_a_supervisor_made_is_still_recorded() -> None:
    incident = opened(KPD_SERGEANT, ask("KCSD"))

    incident.approve(1, KPD_SERGEANT, minutes(1), BOOK)

    assert incident.requests[1].approved_by == KPD_SERGEANT


def test_kenosha_iv_a_an_emergency_request_is_answered_first_and_approved_afterwards() -> None:
    incident = opened(KPD_OFFICER, ask("KCSD", emergency="shots fired"))

    incident.respond(1, sent("KCSD"), KCSD, minutes(5), BOOK)
    incident.approve(1, KPD_SERGEANT, minutes(60), BOOK)

    [owed] = [o for o in incident.obligations.values() if o.is_approval_of(1)]
    assert owed.is_met()


def test_kenosha_iv_a_a_supervisors_emergency_request_is_approved_as_it_is_made() -> None:
    incident = opened(KPD_SERGEANT, ask("KCSD", emergency="shots fired"))

    assert not [o for o in incident.obligations.values() if o.is_approval_of(1)]
    assert incident.requests[1].exception is None
    [requested] = [e for e in incident.collect_events() if isinstance(e, REQUESTED)]
    assert requested.authority.section.endswith("so approved as it is made")


# -- Policies with no approval step ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("requester", "asked"),
    [
        (Actor("ALSIP-PD", "Ofc. Ray", "officer", "A-1"), "WORTH-PD"),
        (Actor("CPD-MO", "Ofc. Park", "officer", "C-9"), "BCSD"),
        (Actor("MPD-MN", "Lt. Watch", "lieutenant", "M-1", ("watch_commander",)), "HCSO"),
        (Actor("OPD-WI", "Sgt. Shift", "sergeant", "O-1", ("shift_supervisor",)), "WCSD"),
        (Actor("HCSO", "Dep. Lane", "officer", "H-1"), "MPD-MN"),
    ],
    ids=["alsip 205.4", "columbia 352.3", "minneapolis", "oconomowoc iii.a.1", "generic"],
)
def test_a_request_is_answered_without_approval_where_the_policy_has_no_approval_step(
    requester: Actor, asked: str
) -> None:
    incident = opened(requester, ask(asked))
    responder = Actor(asked, "Chief X", "chief", "X-1")

    incident.respond(1, sent(asked), responder, minutes(5), BOOK)

    assert incident.requests[1].approved_by is None


@pytest.mark.parametrize(
    ("requester", "section"),
    [
        (Actor("ALSIP-PD", "Ofc. Ray", "officer", "A-1"), "Alsip 205.4: the requesting member"),
        (Actor("CPD-MO", "Ofc. Park", "officer", "C-9"), "Columbia 352.3: the employee"),
    ],
)
def test_a_request_owes_the_supervisor_notice_its_policy_asks_for(
    requester: Actor, section: str
) -> None:
    incident = opened(requester, ask("BCSD"))

    [owed] = [o.obligation for o in incident.obligations.values()]
    assert (owed.kind, owed.recipients) == ("notify", ("Supervisor",))
    assert owed.rule.section.startswith(section)


@pytest.mark.parametrize(
    ("requester", "policy"),
    [
        (Actor("ALSIP-PD", "Ofc. Ray", "officer", "A-1"), "Alsip Police Department Policy 205"),
        (Actor("MPD-MN", "Chief X", "chief", "M-1"), "Minneapolis Police Department: Mutual Aid"),
    ],
    ids=["alsip", "minneapolis"],
)
def test_an_emergency_request_where_the_policy_has_no_such_exception_cites_the_policy(
    requester: Actor, policy: str
) -> None:
    with pytest.raises(PolicyViolation, match="this policy has no emergency exception") as refusal:
        opened(requester, ask("WORTH-PD", emergency="shots fired"))

    assert refusal.value.rule.section.startswith(policy)


def test_alsip_205_4_an_approval_is_not_needed_but_only_a_supervisor_records_one() -> None:
    officer = Actor("ALSIP-PD", "Ofc. Ray", "officer", "A-1")
    sergeant = Actor("ALSIP-PD", "Sgt. Pike", "sergeant", "A-2")
    incident = opened(officer, ask("WORTH-PD"))

    refuses(incident, PolicyViolation, lambda i: i.approve(1, officer, minutes(1), BOOK))
    incident.approve(1, sergeant, minutes(1), BOOK)

    [approved] = [e for e in incident.collect_events() if isinstance(e, APPROVED)]
    assert approved.authority.section.startswith("Alsip 205.4: no approval is needed")
