"""No step is dated before the step it follows: durations from a request to its approval,
response, arrival or close are never negative, and the as-of view by occurred_at keeps the
order. Refused a second before, naming that step and its time; recorded at the same time.
Profiles are the built-in ones (Kenosha owes a notice for each request)."""

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from functools import reduce

import pytest

from domain.corrections import Correctable
from domain.errors import InvalidCommand
from domain.incident import Incident
from domain.values import Actor, Decision, Officer, ResourceLine, ResponseDetails, Withdrawal
from tests.unit.test_prior_approval import BOOK, KCSD, T0, ask, opened, sent

H = timedelta(hours=1)
KPD = Actor("KPD", "Sgt. Cole", "sergeant", "200")
PPPD = Actor("PPPD", "Sgt. Holt", "sergeant", "31")


def timeline(*then: Callable[[Incident], None]) -> Incident:
    """Opened at T0 asking KCSD, which answers an hour later (one of its three units without
    a name); PPPD is asked at T0+2h and Racine at T0+3h, that request approved at T0+4h;
    then the given steps. Rebuilt from its events, as a load does."""
    incident = opened(KPD, ask("KCSD"))
    three = (ResourceLine("patrol_officer", 3),)
    incident.respond(1, replace(sent("KCSD"), resources=three), KCSD, T0 + H, BOOK)
    incident.request_assistance(ask("PPPD"), KPD, T0 + 2 * H, BOOK)
    incident.request_assistance(ask("RACINE-PD"), KPD, T0 + 3 * H, BOOK)
    incident.approve(3, KPD, T0 + 4 * H, BOOK)
    for step in then:
        step(incident)
    rebuilt = reduce(lambda state, event: event.mutate(state), incident.collect_events(), None)
    assert isinstance(rebuilt, Incident)
    return rebuilt


Step = Callable[[Incident, datetime], None]


def close(incident: Incident, at: datetime) -> None:
    incident.close_incident("done", True, KPD, at)


ONE_UNIT = (ResourceLine("patrol_officer", 1),)
STEPS: dict[str, tuple[Step, datetime, str]] = {
    "approval": (lambda i, at: i.approve(2, KPD, at, BOOK), T0 + 2 * H, "request 2 was made"),
    "response": (
        lambda i, at: i.respond(2, ResponseDetails(Decision.DECLINED, "none"), PPPD, at, BOOK),
        T0 + 2 * H,
        "request 2 was made",
    ),
    "cancellation": (lambda i, at: i.cancel(2, "x", KPD, at), T0 + 2 * H, "request 2 was made"),
    "cancellation of an approved request": (
        lambda i, at: i.cancel(3, "x", KPD, at),
        T0 + 4 * H,
        "request 3 was approved",
    ),
    "arrival": (lambda i, at: i.record_arrival(1, KCSD, at), T0 + H, "request 1 was answered"),
    "recall": (
        lambda i, at: i.recall(1, Withdrawal(ONE_UNIT, ("KCSD-0",)), KCSD, at, BOOK),
        T0 + H,
        "request 1 was answered",
    ),
    "release": (
        lambda i, at: i.release(1, Withdrawal(everything=True), KPD, at),
        T0 + H,
        "request 1 was answered",
    ),
    "naming officers": (
        lambda i, at: i.name_officers(1, (Officer("Officer 9", "KCSD-9", "KCSD"),), KCSD, at),
        T0 + H,
        "request 1 was answered",
    ),
    "involvement": (
        lambda i, at: i.record_involvement(1, "KCSD-0", "held the line", "", KCSD, at),
        T0 + H,
        "request 1 was answered",
    ),
    "notice owed for request 2": (
        lambda i, at: i.fulfil(2, (), "told", KPD, at),
        T0 + 2 * H,
        "obligation 2 was owed",
    ),
    "close": (close, T0 + 4 * H, "the incident's latest step"),
}


@pytest.mark.parametrize(("step", "earliest", "follows"), STEPS.values(), ids=STEPS.keys())
def test_a_step_is_dated_no_earlier_than_the_step_it_follows(
    step: Step, earliest: datetime, follows: str
) -> None:
    refused_before(timeline(), step, earliest, follows)


def refused_before(incident: Incident, step: Step, earliest: datetime, follows: str) -> None:
    with pytest.raises(InvalidCommand) as refused:
        step(incident, earliest - timedelta(seconds=1))
    assert not incident.pending_events
    step(incident, earliest)

    assert str(refused.value) == f"occurred_at is before {follows} ({earliest.isoformat()})"
    assert incident.pending_events


# -- an officer named after the response: what names them follows the naming -----------------

NAMED = T0 + 4 * H
NINE = "KCSD-9"
AFTER_NAMING: dict[str, Step] = {
    "involvement": lambda i, at: i.record_involvement(1, NINE, "held the line", "", KCSD, at),
    "recall": lambda i, at: i.recall(1, Withdrawal(ONE_UNIT, (NINE,)), KCSD, at, BOOK),
    "release": lambda i, at: i.release(1, Withdrawal(ONE_UNIT, (NINE,), reason="x"), KPD, at),
    "release of everything": lambda i, at: i.release(1, Withdrawal(everything=True), KPD, at),
}


@pytest.mark.parametrize("step", AFTER_NAMING.values(), ids=AFTER_NAMING.keys())
def test_a_step_naming_an_officer_named_after_the_response_follows_the_naming(
    step: Step,
) -> None:
    """Named at T0+4h, the officer was not on scene for the hour before: a note or a
    withdrawal dated then would put them there in the as-of view (a review saw it answer
    inconsistent-as-of instead)."""
    incident = timeline(
        lambda i: i.name_officers(1, (Officer("Officer 9", NINE, "KCSD"),), KCSD, NAMED)
    )

    refused_before(incident, step, NAMED, f"officer {NINE} was named under request 1")


# -- a close follows every step, whichever kind the latest is ----------------------------------

LATER = T0 + 5 * H
LATEST: dict[str, Callable[[Incident], None]] = {
    "arrival": lambda i: i.record_arrival(1, KCSD, LATER),
    "recall": lambda i: i.recall(1, Withdrawal(ONE_UNIT, ("KCSD-0",)), KCSD, LATER, BOOK),
    "release": lambda i: i.release(1, Withdrawal(ONE_UNIT, ("KCSD-0",), reason="x"), KPD, LATER),
    "involvement": lambda i: i.record_involvement(1, "KCSD-0", "held the line", "", KCSD, LATER),
    "cancellation": lambda i: i.cancel(2, "x", KPD, LATER),
    "notice": lambda i: i.fulfil(2, (), "told", KPD, LATER),
    "correction": lambda i: i.correct(Correctable.NATURE, None, "riot", "typo", KPD, LATER),
    "naming": lambda i: i.name_officers(1, (Officer("Officer 9", "KCSD-9", "KCSD"),), KCSD, LATER),
}


@pytest.mark.parametrize("latest", LATEST.values(), ids=LATEST.keys())
def test_a_close_is_dated_no_earlier_than_the_incidents_latest_step_of_any_kind(
    latest: Callable[[Incident], None],
) -> None:
    refused_before(timeline(latest), close, LATER, "the incident's latest step")


# -- an agency is asked again only once its last request ended -----------------------------------


def recalled_after_the_rest_was_released(incident: Incident) -> None:
    """Recalls and releases are not ordered among themselves: the latest counts."""
    incident.recall(1, Withdrawal(ONE_UNIT, ("KCSD-0",)), KCSD, LATER, BOOK)
    incident.release(1, Withdrawal(everything=True), KPD, LATER - H)


ENDS: dict[str, tuple[Callable[[Incident], None], str, str]] = {
    "declined": (
        lambda i: i.respond(2, ResponseDetails(Decision.DECLINED, "none"), PPPD, LATER, BOOK),
        "PPPD",
        "request 2 was answered",
    ),
    "cancelled": (lambda i: i.cancel(2, "x", KPD, LATER), "PPPD", "request 2 was cancelled"),
    "released": (
        lambda i: i.release(1, Withdrawal(everything=True), KPD, LATER),
        "KCSD",
        "resources under request 1 were withdrawn",
    ),
    "recalled": (
        recalled_after_the_rest_was_released,
        "KCSD",
        "resources under request 1 were withdrawn",
    ),
}


@pytest.mark.parametrize(("end", "agency", "follows"), ENDS.values(), ids=ENDS.keys())
def test_an_agency_is_asked_again_no_earlier_than_its_last_request_ended(
    end: Callable[[Incident], None], agency: str, follows: str
) -> None:
    def ask_again(incident: Incident, at: datetime) -> None:
        incident.request_assistance(ask(agency), KPD, at, BOOK)

    refused_before(timeline(end), ask_again, LATER, follows)
