"""The Incident aggregate's lifecycle rules, with no I/O. Each refusal stores nothing: the
aggregate has no new pending event after it."""

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from functools import reduce
from typing import Any

import pytest

from domain.corrections import Correctable
from domain.directory import Agency, Directory, PolicyBook
from domain.errors import (
    IncidentAlreadyClosed,
    InvalidCommand,
    NotAuthorized,
    RequestNotFound,
    ResourcesStillDeployed,
    RuleViolation,
)
from domain.incident import Incident
from domain.policy import PolicyProfile
from domain.values import (
    Actor,
    Decision,
    IncidentKind,
    Officer,
    RequestDetails,
    RequestStatus,
    ResourceLine,
    ResponseDetails,
    Withdrawal,
)

T0 = datetime(2026, 11, 1, 2, 0, tzinfo=UTC)
KPD = Actor("KPD", "Sgt. Ruiz", "sergeant", "412")
KCSD = Actor("KCSD", "Lt. Ortiz", "lieutenant", "77")
PPPD = Actor("PPPD", "Sgt. Holt", "sergeant", "31")
OPEN_TO_ALL = PolicyProfile("open", 1, date(2026, 1, 1), "Open", ("officer",), {}, "Open 1")
BOOK = PolicyBook(
    Directory(
        [Agency(code, code, code, "open") for code in ("KPD", "KCSD", "PPPD")], [OPEN_TO_ALL]
    ),
    date(2026, 11, 1),
)


def ask(agency: str = "KCSD", officers: int = 4) -> RequestDetails:
    line = (ResourceLine("patrol_officer", officers),)
    return RequestDetails(agency, line, T0, "52nd St", "Lt. Moss", "Crowd of 300")


def response(decision: Decision = Decision.PARTIALLY_ACCEPTED, sent: int = 2) -> ResponseDetails:
    if decision == Decision.DECLINED:
        return ResponseDetails(decision, "none free")
    officers = tuple(Officer(f"Deputy {n}", f"D-{n}", "KCSD") for n in range(sent))
    return ResponseDetails(decision, "spare", (ResourceLine("patrol_officer", sent),), officers)


def opened() -> Incident:
    return Incident.open(
        case_number="K-1",
        nature="disturbance",
        kind=IncidentKind.EMERGENCY,
        location="downtown",
        request=ask(),
        actor=KPD,
        occurred_at=T0,
        book=BOOK,
    )


def approved() -> Incident:
    incident = opened()
    incident.approve(1, KPD, T0, BOOK)
    return incident


def deployed() -> Incident:
    incident = approved()
    incident.respond(1, response(), KCSD, T0, BOOK)
    return incident


def refuses(
    incident: Incident, error: type[Exception], command: Any, match: str | None = None
) -> None:
    before = len(incident.pending_events)
    with pytest.raises(error, match=match):
        command(incident)
    assert len(incident.pending_events) == before


def names(incident: Incident) -> list[str]:
    return [type(e).__name__ for e in incident.collect_events()]


def test_opening_records_the_incident_and_its_first_request() -> None:
    assert names(opened()) == ["IncidentOpened", "AssistanceRequested"]


def test_an_agency_cannot_ask_itself() -> None:
    with pytest.raises(InvalidCommand):
        Incident.open(
            case_number="K-1",
            nature="n",
            kind="emergency",
            location="l",
            request=ask("KPD"),
            actor=KPD,
            occurred_at=T0,
            book=BOOK,
        )


def test_a_time_without_offset_is_refused() -> None:
    refuses(
        approved(), InvalidCommand, lambda i: i.cancel(1, "x", KPD, datetime(2026, 11, 1, 3, 0))
    )


def test_a_time_before_the_incident_opened_is_refused() -> None:
    refuses(approved(), InvalidCommand, lambda i: i.cancel(1, "x", KPD, T0 - timedelta(hours=1)))


def test_the_same_incident_id_follows_from_agency_and_case_number() -> None:
    assert Incident.create_id("KPD", "K-1") == opened().id
    assert Incident.create_id("KPD", "K-2") != opened().id
    assert Incident.create_id("PPPD", "K-1") != opened().id


def test_only_the_requesting_agency_asks_further_agencies() -> None:
    refuses(deployed(), NotAuthorized, lambda i: i.request_assistance(ask("PPPD"), KCSD, T0, BOOK))


def test_an_agency_with_an_open_request_is_not_asked_twice() -> None:
    refuses(deployed(), RuleViolation, lambda i: i.request_assistance(ask("KCSD"), KPD, T0, BOOK))


def test_an_agency_that_declined_may_be_asked_again() -> None:
    incident = approved()
    incident.respond(1, response(Decision.DECLINED), KCSD, T0, BOOK)

    incident.request_assistance(ask("KCSD"), KPD, T0, BOOK)

    assert incident.requests[2].status == RequestStatus.REQUESTED


def test_a_request_is_approved_once() -> None:
    refuses(approved(), RuleViolation, lambda i: i.approve(1, KPD, T0, BOOK))


def test_oconomowoc_v_b_only_the_agency_asked_responds() -> None:
    refuses(approved(), NotAuthorized, lambda i: i.respond(1, response(), KPD, T0, BOOK))


def test_an_agency_asked_knows_only_its_own_requests() -> None:
    incident = approved()
    incident.request_assistance(ask("PPPD"), KPD, T0, BOOK)

    refuses(incident, RequestNotFound, lambda i: i.respond(1, response(), PPPD, T0, BOOK))
    refuses(incident, RequestNotFound, lambda i: i.record_arrival(1, PPPD, T0))
    refuses(incident, RequestNotFound, lambda i: i.record_involvement(2, "D-0", "x", "", KCSD, T0))


def test_a_request_is_answered_once() -> None:
    refuses(deployed(), RuleViolation, lambda i: i.respond(1, response(), KCSD, T0, BOOK))


@pytest.mark.parametrize(
    ("decision", "sent"),
    [(Decision.ACCEPTED, 2), (Decision.PARTIALLY_ACCEPTED, 4)],
)
def test_the_decision_must_agree_with_what_is_sent(decision: Decision, sent: int) -> None:
    refuses(
        approved(), InvalidCommand, lambda i: i.respond(1, response(decision, sent), KCSD, T0, BOOK)
    )


def test_a_decline_commits_nothing() -> None:
    declined = ResponseDetails(Decision.DECLINED, "no", (ResourceLine("patrol_officer", 1),))

    refuses(approved(), InvalidCommand, lambda i: i.respond(1, declined, KCSD, T0, BOOK))


def test_a_response_names_each_officer_once() -> None:
    twice = ResponseDetails(
        Decision.PARTIALLY_ACCEPTED,
        "x",
        (ResourceLine("patrol_officer", 2),),
        (Officer("A", "D-1", "KCSD"), Officer("B", "D-1", "KCSD")),
    )

    refuses(approved(), InvalidCommand, lambda i: i.respond(1, twice, KCSD, T0, BOOK))


def test_an_agency_commits_only_its_own_officers() -> None:
    theirs = ResponseDetails(
        Decision.PARTIALLY_ACCEPTED,
        "x",
        (ResourceLine("patrol_officer", 1),),
        (Officer("A", "P-1", "PPPD"),),
    )

    refuses(approved(), NotAuthorized, lambda i: i.respond(1, theirs, KCSD, T0, BOOK))


def test_minneapolis_the_agency_asked_recalls_part_of_what_it_sent() -> None:
    incident = deployed()

    incident.recall(1, Withdrawal((ResourceLine("patrol_officer", 1),), ("D-1",)), KCSD, T0, BOOK)

    assert incident.requests[1].deployed.resources["patrol_officer"] == 1
    assert incident.requests[1].deployed.badges == {"D-0"}


@pytest.mark.parametrize(
    "withdrawal",
    [
        Withdrawal((ResourceLine("patrol_officer", 3),)),
        Withdrawal(badges=("D-9",)),
        Withdrawal(badges=("D-0", "D-0")),
        Withdrawal(),
        Withdrawal(badges=("D-0",), everything=True),
    ],
    ids=[
        "more than deployed",
        "officer not deployed",
        "officer named twice",
        "nothing named",
        "both named and everything",
    ],
)
def test_a_recall_takes_back_only_what_is_deployed(withdrawal: Withdrawal) -> None:
    refuses(deployed(), InvalidCommand, lambda i: i.recall(1, withdrawal, KCSD, T0, BOOK))


def test_recalling_everything_stores_the_concrete_list() -> None:
    incident = deployed()
    incident.collect_events()

    incident.recall(1, Withdrawal(reason="needed", everything=True), KCSD, T0, BOOK)

    [recalled] = incident.collect_events()
    assert isinstance(recalled, Incident.ResourcesRecalled)
    assert recalled.withdrawal == Withdrawal(
        (ResourceLine("patrol_officer", 2),), ("D-0", "D-1"), "needed"
    )


def test_a_release_names_each_officer_once() -> None:
    twice = Withdrawal(badges=("D-0", "D-0"))

    refuses(deployed(), InvalidCommand, lambda i: i.release(1, twice, KPD, T0))


def test_only_the_requesting_agency_releases() -> None:
    refuses(
        deployed(), NotAuthorized, lambda i: i.release(1, Withdrawal(everything=True), KCSD, T0)
    )


def test_a_request_is_cancelled_only_before_it_is_answered() -> None:
    refuses(deployed(), RuleViolation, lambda i: i.cancel(1, "x", KPD, T0))


def test_involvement_is_recorded_only_for_officers_sent_under_the_request() -> None:
    refuses(deployed(), InvalidCommand, lambda i: i.record_involvement(1, "X-1", "x", "", KCSD, T0))


def test_kenosha_iv_c_2_involvement_is_recorded_for_the_officer_in_charge_too() -> None:
    """The officer in charge is named apart from the officers sent, and responded too."""
    incident = approved()
    in_charge = Officer("Lt. Ortiz", "77", "KCSD", "lieutenant")
    incident.respond(1, replace(response(), officer_in_charge=in_charge), KCSD, T0, BOOK)

    incident.record_involvement(1, "77", "ran the perimeter", "", KPD, T0)

    assert names(incident)[-1] == "InvolvementRecorded"


LT_ORTIZ = Officer("Lt. Ortiz", "77", "KCSD", "lieutenant")
ONE_UNIT = (ResourceLine("patrol_officer", 1),)
PATEL = Officer("Deputy Patel", "D-7", "KCSD")


def unnamed_units() -> Incident:
    """KCSD commits three officers and names one (D-0), under Lt. Ortiz."""
    incident = approved()
    line = (ResourceLine("patrol_officer", 3),)
    named = (Officer("Deputy 0", "D-0", "KCSD"),)
    answer = ResponseDetails(Decision.PARTIALLY_ACCEPTED, "spare", line, named, LT_ORTIZ)
    incident.respond(1, answer, KCSD, T0, BOOK)
    return incident


def test_kenosha_iv_c_1_the_agency_asked_names_its_officers_after_the_response() -> None:
    incident = unnamed_units()
    incident.collect_events()

    incident.name_officers(1, (PATEL,), KCSD, T0 + timedelta(minutes=5))
    incident.record_involvement(1, "D-7", "held the line", "", KCSD, T0 + timedelta(minutes=6))

    named, _ = incident.collect_events()
    assert isinstance(named, Incident.OfficersNamed)
    assert (named.number, named.officers, named.actor) == (1, (PATEL,), KCSD)
    assert incident.requests[1].officers["D-7"] == PATEL
    assert incident.requests[1].deployed.badges == {"D-0", "D-7"}


def test_an_officer_named_later_is_recalled_like_one_the_response_named() -> None:
    incident = unnamed_units()
    incident.name_officers(1, (PATEL,), KCSD, T0)

    incident.recall(1, Withdrawal(ONE_UNIT, ("D-7",)), KCSD, T0, BOOK)

    assert incident.requests[1].deployed.badges == {"D-0"}
    assert incident.requests[1].deployed.resources["patrol_officer"] == 2


def named_by(actor: Actor, *officers: Officer) -> Any:
    return lambda i: i.name_officers(1, officers, actor, T0)


def officers(count: int) -> tuple[Officer, ...]:
    return tuple(Officer(f"Deputy {n}", f"N-{n}", "KCSD") for n in range(count))


def declined(incident: Incident) -> Incident:
    incident.respond(1, response(Decision.DECLINED), KCSD, T0, BOOK)
    return incident


def recalled(incident: Incident) -> Incident:
    incident.recall(1, Withdrawal(everything=True), KCSD, T0, BOOK)
    return incident


def closed(incident: Incident) -> Incident:
    incident.close_incident("done", True, KPD, T0)
    return incident


@pytest.mark.parametrize(
    ("incident", "error", "command"),
    [
        (unnamed_units, NotAuthorized, named_by(KPD, PATEL)),
        (unnamed_units, NotAuthorized, named_by(KCSD, Officer("Ofc. Reyes", "P-7", "PPPD"))),
        (approved, RuleViolation, named_by(KCSD, PATEL)),
        (lambda: declined(approved()), RuleViolation, named_by(KCSD, PATEL)),
        (unnamed_units, InvalidCommand, named_by(KCSD)),
        (unnamed_units, RuleViolation, named_by(KCSD, Officer("Deputy 0", "D-0", "KCSD"))),
        (unnamed_units, RuleViolation, named_by(KCSD, LT_ORTIZ)),
        (unnamed_units, InvalidCommand, named_by(KCSD, PATEL, PATEL)),
        (unnamed_units, InvalidCommand, named_by(KCSD, *officers(3))),
        (lambda: recalled(unnamed_units()), RuleViolation, named_by(KCSD, PATEL)),
        (lambda: closed(unnamed_units()), IncidentAlreadyClosed, named_by(KCSD, PATEL)),
    ],
    ids=[
        "by the requesting agency",
        "another agency's officer",
        "before the response",
        "under a decline",
        "nobody",
        "a badge the response named",
        "the officer in charge",
        "the same badge twice",
        "more than the units without a name",
        "after everything was recalled",
        "after close",
    ],
)
def test_officers_are_named_only_by_the_agency_asked_for_units_it_committed_once_each(
    incident: Any, error: type[Exception], command: Any
) -> None:
    refuses(incident(), error, command)


@pytest.mark.parametrize(
    ("incident", "status"), [(approved, "approved"), (lambda: declined(approved()), "declined")]
)
def test_a_request_that_sent_nobody_says_so_when_officers_are_named(
    incident: Any, status: str
) -> None:
    with pytest.raises(RuleViolation, match=f"request 1 is {status}; nobody was sent"):
        named_by(KCSD, PATEL)(incident())


def test_names_fill_the_committed_units_without_one_and_no_more() -> None:
    incident = unnamed_units()
    incident.name_officers(1, officers(2), KCSD, T0)

    refuses(incident, InvalidCommand, named_by(KCSD, PATEL))


def test_a_third_agency_cannot_record_involvement() -> None:
    incident = deployed()
    incident.request_assistance(ask("PPPD"), KPD, T0, BOOK)

    refuses(incident, RequestNotFound, lambda i: i.record_involvement(1, "D-0", "x", "", PPPD, T0))


def test_closing_while_resources_are_deployed_is_refused() -> None:
    refuses(deployed(), ResourcesStillDeployed, lambda i: i.close_incident("done", False, KPD, T0))


def test_closing_with_release_all_sends_everyone_home_and_cancels_what_is_pending() -> None:
    incident = deployed()
    incident.request_assistance(ask("PPPD"), KPD, T0, BOOK)
    incident.collect_events()

    incident.close_incident("done", True, KPD, T0)

    assert names(incident) == ["ResourcesReleased", "RequestCancelled", "IncidentClosed"]
    assert incident.requests[1].deployed.is_empty()


def test_nothing_is_recorded_after_close() -> None:
    incident = approved()
    incident.close_incident("done", False, KPD, T0)

    refuses(incident, IncidentAlreadyClosed, lambda i: i.approve(1, KPD, T0, BOOK))
    refuses(incident, IncidentAlreadyClosed, lambda i: i.close_incident("again", False, KPD, T0))


def test_kenosha_iv_c_2_involvement_is_written_up_after_close() -> None:
    """The officers' involvement and observations usually come after the incident; the full
    report needs them, so they are recorded after close, as notices and corrections are."""
    incident = deployed()
    incident.close_incident("done", True, KPD, T0 + timedelta(hours=2))
    incident.collect_events()

    incident.record_involvement(1, "D-0", "held the line", "calm", KCSD, T0 + timedelta(days=1))

    assert names(incident) == ["InvolvementRecorded"]


@pytest.mark.parametrize(
    ("fact", "number", "actor"),
    [(Correctable.OUTCOME, None, KPD), (Correctable.RESPONSE_FACTS, 1, KCSD)],
    ids=["outcome before close", "response facts before the response"],
)
def test_a_fact_is_corrected_only_once_it_is_recorded(
    fact: Correctable, number: int | None, actor: Actor
) -> None:
    refuses(
        approved(), RuleViolation, lambda i: i.correct(fact, number, "right", "typo", actor, T0)
    )


def test_a_recorded_response_is_corrected_by_the_agency_that_gave_it() -> None:
    incident = deployed()
    incident.collect_events()

    incident.correct(Correctable.RESPONSE_FACTS, 1, "right", "typo", KCSD, T0)

    assert names(incident) == ["FactCorrected"]


def happened() -> Incident:
    """Each kind of fact at its own time, as replay rebuilds the incident from its events:
    opened at T0, request 2 made an hour later, the response to request 1 two hours later,
    closed three hours later."""
    incident = approved()
    incident.request_assistance(ask("PPPD"), KPD, T0 + timedelta(hours=1), BOOK)
    incident.respond(1, response(), KCSD, T0 + timedelta(hours=2), BOOK)
    incident.close_incident("done", True, KPD, T0 + timedelta(hours=3))
    rebuilt = reduce(lambda state, event: event.mutate(state), incident.collect_events(), None)
    assert isinstance(rebuilt, Incident)
    return rebuilt


@pytest.mark.parametrize(
    ("fact", "number", "actor", "fact_at"),
    [
        (Correctable.NATURE, None, KPD, T0),
        (Correctable.REQUEST_FACTS, 2, KPD, T0 + timedelta(hours=1)),
        (Correctable.RESPONSE_FACTS, 1, KCSD, T0 + timedelta(hours=2)),
        (Correctable.OUTCOME, None, KPD, T0 + timedelta(hours=3)),
    ],
    ids=["incident opened", "request made", "response recorded", "incident closed"],
)
def test_a_correction_is_dated_no_earlier_than_the_fact_it_corrects(
    fact: Correctable, number: int | None, actor: Actor, fact_at: datetime
) -> None:
    incident = happened()
    second = timedelta(seconds=1)

    refuses(
        incident,
        InvalidCommand,
        lambda i: i.correct(fact, number, "right", "typo", actor, fact_at - second),
    )
    incident.correct(fact, number, "right", "typo", actor, fact_at)
    incident.correct(fact, number, "right", "typo", actor, fact_at + second)

    assert names(incident) == ["FactCorrected", "FactCorrected"]


def test_replaying_the_events_rebuilds_the_same_state() -> None:
    incident = unnamed_units()
    incident.name_officers(1, (PATEL,), KCSD, T0)
    incident.recall(1, Withdrawal(ONE_UNIT, ("D-0",)), KCSD, T0, BOOK)
    events = incident.collect_events()

    rebuilt = reduce(lambda state, event: event.mutate(state), events, None)

    assert rebuilt is not None
    assert vars(rebuilt) == vars(incident)
