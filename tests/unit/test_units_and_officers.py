"""A unit is one officer at most (Kenosha IV.C.1, the full report's units_not_named): the
officers named and deployed under a request never outnumber its units deployed, at the
response, at each naming and at each recall or release, and an officer withdrawn takes a
unit along. Each refusal stores nothing."""

from dataclasses import replace
from functools import reduce
from typing import Any

import pytest

from domain.errors import InvalidCommand, ResourcesStillDeployed
from domain.incident import Incident
from domain.policy import PolicyRef
from domain.values import Decision, Officer, ResourceLine, ResponseDetails, Withdrawal
from tests.unit.test_incident import BOOK, KCSD, KPD, LT_ORTIZ, T0, approved, refuses

HA, HB, HC = (Officer(f"Deputy {n}", n, "KCSD") for n in ("HA", "HB", "HC"))


def units(count: int) -> tuple[ResourceLine, ...]:
    return (ResourceLine("patrol_officer", count),)


def answer(count: int, *officers: Officer, in_charge: Officer | None = None) -> ResponseDetails:
    return ResponseDetails(Decision.PARTIALLY_ACCEPTED, "spare", units(count), officers, in_charge)


def sent(count: int, *officers: Officer) -> Incident:
    """KCSD answers request 1 in part (four asked) with ``count`` units, naming ``officers``."""
    incident = approved()
    incident.respond(1, answer(count, *officers), KCSD, T0, BOOK)
    return incident


def responding(response: ResponseDetails) -> Any:
    return lambda i: i.respond(1, response, KCSD, T0, BOOK)


def recalling(withdrawal: Withdrawal) -> Any:
    return lambda i: i.recall(1, withdrawal, KCSD, T0, BOOK)


def releasing(withdrawal: Withdrawal) -> Any:
    return lambda i: i.release(1, withdrawal, KPD, T0)


def on_scene(incident: Incident) -> tuple[dict[str, int], set[str]]:
    deployed = incident.requests[1].deployed
    return dict(+deployed.resources), deployed.badges


def test_qa_a_a_response_naming_three_officers_on_one_unit_is_refused() -> None:
    too_many = responding(answer(1, HA, HB, HC))

    refuses(approved(), InvalidCommand, too_many, "3 officers named on 1 committed unit")


@pytest.mark.parametrize(
    "response",
    [
        answer(2, HA, HB, in_charge=LT_ORTIZ),
        answer(2, HA, LT_ORTIZ, in_charge=LT_ORTIZ),
    ],
    ids=["in charge apart from the officers", "in charge among them, on a unit"],
)
def test_the_officer_in_charge_needs_a_unit_only_when_listed_among_the_officers_sent(
    response: ResponseDetails,
) -> None:
    incident = approved()

    incident.respond(1, response, KCSD, T0, BOOK)

    assert on_scene(incident) == ({"patrol_officer": 2}, {o.badge for o in response.officers})


def test_an_officer_in_charge_listed_among_the_officers_takes_one_of_their_units() -> None:
    crowded = answer(1, HA, LT_ORTIZ, in_charge=LT_ORTIZ)

    refuses(approved(), InvalidCommand, responding(crowded))


def test_qa_c_one_badge_is_not_in_charge_and_sent_under_two_names() -> None:
    twice = answer(2, HA, replace(LT_ORTIZ, name="Lt. Ortiz dup"), in_charge=LT_ORTIZ)

    refuses(approved(), InvalidCommand, responding(twice), "badge 77 is named both")


def test_names_given_later_fill_the_units_deployed_now_not_those_committed() -> None:
    """Three committed, HA named, one unnamed unit recalled: one unit is left to name."""
    incident = sent(3, HA)
    incident.recall(1, Withdrawal(units(1)), KCSD, T0, BOOK)

    refuses(incident, InvalidCommand, lambda i: i.name_officers(1, (HB, HC), KCSD, T0))
    incident.name_officers(1, (HB,), KCSD, T0)

    assert on_scene(incident) == ({"patrol_officer": 2}, {"HA", "HB"})


@pytest.mark.parametrize("withdrawing", [recalling, releasing], ids=["recall", "release"])
@pytest.mark.parametrize(
    ("withdrawal", "message"),
    [
        (Withdrawal(badges=("HA",)), "1 named officer.s. withdrawn with 0 unit"),
        (Withdrawal(units(1), ("HA", "HB")), "2 named officer.s. withdrawn with 1 unit"),
        (Withdrawal(units(1)), "leave 2 named officer.s. deployed on 1 unit.*who leave"),
    ],
    ids=["officer without a unit", "two officers on one unit", "a unit without its officer"],
)
def test_a_withdrawal_keeps_a_unit_under_each_officer_named(
    withdrawing: Any, withdrawal: Withdrawal, message: str
) -> None:
    incident = sent(2, HA, HB)

    refuses(incident, InvalidCommand, withdrawing(withdrawal), message)
    assert on_scene(incident) == ({"patrol_officer": 2}, {"HA", "HB"})


def test_units_without_a_name_are_withdrawn_alone() -> None:
    incident = sent(3, HA)

    incident.release(1, Withdrawal(units(2)), KPD, T0)

    assert on_scene(incident) == ({"patrol_officer": 1}, {"HA"})
    refuses(incident, InvalidCommand, releasing(Withdrawal(units(1))))


def test_qa_a_recalling_a_unit_names_the_officer_who_leaves() -> None:
    """KCSD sends A, B, C on three units and recalls one: the recall names who goes."""
    incident = sent(3, HA, HB, HC)
    refuses(incident, InvalidCommand, recalling(Withdrawal(units(1))))

    incident.recall(1, Withdrawal(units(1), ("HA",)), KCSD, T0, BOOK)

    assert on_scene(incident) == ({"patrol_officer": 2}, {"HB", "HC"})
    refuses(incident, ResourcesStillDeployed, lambda i: i.close_incident("x", False, KPD, T0))


def test_qa_b_an_officer_recalled_takes_a_unit_and_the_close_releases_the_rest() -> None:
    """HCSO's two units with HA and HB: HA recalled with a unit, the close releases HB's."""
    incident = sent(2, HA, HB)
    refuses(incident, InvalidCommand, recalling(Withdrawal(badges=("HA",))))

    incident.recall(1, Withdrawal(units(1), ("HA",)), KCSD, T0, BOOK)
    incident.collect_events()
    incident.close_incident("done", True, KPD, T0)

    released, _ = incident.collect_events()
    assert isinstance(released, Incident.ResourcesReleased)
    assert released.withdrawal == Withdrawal(units(1), ("HB",), "incident closed")
    assert on_scene(incident) == ({}, set())


@pytest.mark.parametrize("withdrawing", [recalling, releasing], ids=["recall", "release"])
def test_everything_withdraws_every_unit_with_every_officer(withdrawing: Any) -> None:
    incident = sent(3, HA, HB)
    incident.collect_events()

    withdrawing(Withdrawal(reason="done", everything=True))(incident)

    [withdrawn] = incident.collect_events()
    assert isinstance(withdrawn, Incident.ResourcesRecalled | Incident.ResourcesReleased)
    assert withdrawn.withdrawal == Withdrawal(units(3), ("HA", "HB"), "done")
    assert on_scene(incident) == ({}, set())


def test_a_history_stored_before_the_rule_still_loads_and_is_withdrawn_by_everything() -> None:
    """Event bodies check nothing: one unit with three officers, as QA stored, replays."""
    incident = approved()
    rule = PolicyRef("open", 1, "Open 1")
    incident._respond(1, answer(1, HA, HB, HC), rule, None, (), KCSD, T0)  # no checks

    rebuilt = reduce(lambda state, event: event.mutate(state), incident.collect_events(), None)

    assert isinstance(rebuilt, Incident)
    assert on_scene(rebuilt) == ({"patrol_officer": 1}, {"HA", "HB", "HC"})
    refuses(rebuilt, InvalidCommand, recalling(Withdrawal(units(1), ("HA",))))
    rebuilt.recall(1, Withdrawal(everything=True), KCSD, T0, BOOK)
    assert on_scene(rebuilt) == ({}, set())
