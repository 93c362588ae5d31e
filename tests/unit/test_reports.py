"""The Kenosha report builders are pure functions of read-model rows."""

from datetime import UTC, datetime, timedelta
from typing import Any

from projections.queries import IncidentRows, narrowed
from projections.reports import OUTCOME_PENDING, full_report, summary_report

KPD = "Kenosha Police Department"
NAMES = {"KPD": KPD, "KCSD": "Kenosha County Sheriff's Department"}
T0 = datetime(2026, 11, 1, 2, 0, tzinfo=UTC)
LATER = T0 + timedelta(hours=3)
SERGEANT = {"agency": "KPD", "name": "Sgt. Ruiz", "rank": "sergeant", "badge": "412", "roles": []}
LIEUTENANT = {"agency": "KPD", "name": "Lt. Moss", "rank": "lieutenant", "badge": "300"}
RULE = {"policy_id": "kenosha-wi", "version": 1, "section": "Kenosha 2.1 IV.B"}


def rows(
    outcome: str | None = None,
    requests: list[dict[str, Any]] | None = None,
    officers: list[dict[str, Any]] | None = None,
) -> IncidentRows:
    incident = {
        "incident_id": "i-1",
        "opened_at": T0,
        "case_number": "K-1",
        "nature": "Disturbance",
        "opened_by": SERGEANT,
        "requesting_agency": "KPD",
        "outcome": outcome,
        "status": "closed" if outcome else "open",
        "closed_at": T0 if outcome else None,
        "corrections": [],
    }
    obligation: dict[str, Any] = {
        "number": 1,
        "party": "KPD",
        "kind": "notify",
        "recipients": ["Chief of Police"],
        "outstanding": ["Chief of Police"],
        "status": "open",
        "rule": RULE,
        "request_number": 1,
        "created_at": T0,
        "met_at": None,
        "fulfilments": [],
    }
    asked = [request()] if requests is None else requests
    sent = [officer()] if officers is None else officers
    # plain dicts stand in for the rows a query returns
    return IncidentRows(incident, asked, sent, [], [obligation])  # type: ignore[arg-type, list-item]


def request(**fields: Any) -> dict[str, Any]:
    """Request 1, to KCSD: four asked, two committed."""
    return {
        "number": 1,
        "agency": "KCSD",
        "facts": "300 people",
        "requested_at": T0,
        "requested_by": SERGEANT,
        "response_facts": "two free",
        "status": "partially_accepted",
        "resources": [{"resource": "patrol_officer", "quantity": 4}],
        "committed": [{"resource": "patrol_officer", "quantity": 2}],
        "deployed": {"patrol_officer": 2},
        "approved_by": SERGEANT,
        "responded_by": None,
        "officer_in_charge": None,
        "requested_under": RULE,
        "approved_under": RULE,
        "responded_under": None,
        "request_exception": None,
        "response_exception": None,
        **fields,
    }


def officer(**fields: Any) -> dict[str, Any]:
    """An officer sent under request 1."""
    return {
        "number": 1,
        "name": "Deputy Lee",
        "badge": "D-1",
        "rank": "deputy",
        "agency": "KCSD",
        "status": "deployed",
        "involvement": [{"involvement": "held the line"}],
        **fields,
    }


def two_requests() -> IncidentRows:
    """KCSD asked at T0 by Sgt. Ruiz, then PPPD three hours later by Lt. Moss."""
    later = request(number=2, agency="PPPD", requested_at=LATER, requested_by=LIEUTENANT)
    return rows(requests=[request(), later])


def test_an_open_incident_says_its_outcome_is_pending() -> None:
    assert summary_report(rows(), NAMES)["outcome"] == OUTCOME_PENDING


def test_the_summary_carries_every_item_of_kenosha_iv_b() -> None:
    report = summary_report(rows("Dispersed"), NAMES)

    assert report["requested_at"] == T0  # IV.B.1
    assert report["case_number"] == "K-1"  # IV.B.2
    assert report["nature_of_incident"] == "Disturbance"  # IV.B.3
    assert report["requestor"]["department"] == "KPD"  # IV.B.4
    assert report["basis_for_decisions"][0]["facts_for_request"] == "300 people"  # IV.B.5
    assert report["basis_for_decisions"][0]["facts_for_response"] == "two free"  # IV.B.5
    assert report["responses"][0]["status"] == "partially_accepted"  # IV.B.6
    assert report["outcome"] == "Dispersed"  # IV.B.7


def test_the_summary_shows_what_is_still_owed_and_any_exception() -> None:
    exception = {"kind": "emergency", "justification": "shots fired", "rule": RULE}

    report = summary_report(rows(requests=[request(request_exception=exception)]), NAMES)

    assert report["open_obligations"] == 1
    assert report["obligations"][0]["outstanding"] == ["Chief of Police"]
    assert report["policy_decisions"][0]["exceptions"] == [exception]


def test_the_full_report_adds_each_officer_department_and_involvement() -> None:
    report = full_report(rows(), NAMES)

    assert (report["officers"][0]["department"], report["officers"][0]["department_name"]) == (
        "KCSD",
        "Kenosha County Sheriff's Department",
    )  # IV.C.1
    assert report["officers"][0]["involvement"] == [{"involvement": "held the line"}]  # IV.C.2
    assert report["responses"][0]["still_deployed"] == [
        {"resource": "patrol_officer", "quantity": 2}
    ]


def test_kenosha_iv_b_1_and_4_each_request_has_its_own_date_time_and_requestor() -> None:
    report = summary_report(two_requests(), NAMES)

    made = [(r["requested_at"], r["requested_by"]) for r in report["responses"]]
    assert made == [
        (T0, {**SERGEANT, "department": "KPD", "department_name": KPD}),
        (LATER, {**LIEUTENANT, "department": "KPD", "department_name": KPD}),
    ]
    assert (report["requested_at"], report["requestor"]["name"]) == (T0, "Sgt. Ruiz")


def test_kenosha_iv_b_1_and_4_the_agency_asked_later_reads_its_own_request() -> None:
    report = summary_report(narrowed(two_requests(), "PPPD"), NAMES)

    assert report["requested_at"] == LATER
    assert report["requestor"] == {**LIEUTENANT, "department": "KPD", "department_name": KPD}


def test_an_activity_report_asks_nobody_and_gives_when_and_by_whom_it_was_opened() -> None:
    report = summary_report(rows(requests=[], officers=[]), NAMES)

    assert report["requested_at"] == T0
    assert report["requestor"] == {**SERGEANT, "department": "KPD", "department_name": KPD}


def test_kenosha_iv_c_1_committed_units_no_officer_is_named_for_are_counted() -> None:
    """Four committed and nobody named; the officer in charge is not one of the four."""
    four = [{"resource": "patrol_officer", "quantity": 4}]
    boss = officer(name="Sgt. Boss", badge="S-1", status="in_charge", involvement=[])

    report = full_report(rows(requests=[request(committed=four)], officers=[boss]), NAMES)

    assert report["officer_names"] == [
        {
            "request_number": 1,
            "agency": "KCSD",
            "committed": four,
            "officers_named": 0,
            "units_not_named": 4,
        }
    ]


def test_a_request_whose_officers_are_all_named_or_that_committed_nothing_lacks_no_name() -> None:
    both = rows(officers=[officer(), officer(badge="D-2", status="recalled")])
    declined = rows(requests=[request(status="declined", committed=[])], officers=[])

    assert full_report(both, NAMES)["officer_names"][0]["units_not_named"] == 0
    assert full_report(declined, NAMES)["officer_names"] == []


def test_a_department_outside_the_directory_has_no_name() -> None:
    """Alsip 205.3.1: activity may be reported in a jurisdiction the directory lacks."""
    report = full_report(rows(officers=[officer(agency="ELSEWHERE-PD")]), NAMES)

    assert report["officers"][0]["department_name"] is None
