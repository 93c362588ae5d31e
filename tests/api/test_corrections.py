"""Issue 5: a wrong fact is corrected by a correcting event with its reason and author; the
history shows both; the reports use the corrected value and say so."""

from typing import Any

from tests.api import bodies
from tests.api.conftest import Service
from tests.api.test_full_incident_lifecycle import run_lifecycle

P = "urn:mutual-aid-ledger:problem:"


def correction(fact: str, value: str, number: int | None = None, **actor: Any) -> dict[str, Any]:
    body = bodies.stamped("2026-11-01T04:00:00Z", fact=fact, value=value, reason="typo in CAD")
    if actor:
        body["actor"] = actor
    return {**body, "request_number": number} if number else body


def test_a_corrected_fact_shows_in_reports_and_history_keeps_both(sqlite_service: Service) -> None:
    kpd, kcsd = sqlite_service.cad("KPD"), sqlite_service.cad("KCSD")
    incident, _ = run_lifecycle(kpd, kcsd, sqlite_service.cad("PPPD"))
    at = f"/v1/incidents/{incident}"

    first = kpd.post(at + "/corrections", correction("incident.nature", "Riot downtown"))
    second = kcsd.post(
        at + "/corrections",
        correction(
            "response.facts",
            "Two deputies free",
            1,
            **bodies.actor("Lt. Ben Ortiz", "lieutenant", "77"),
        ),
    )

    summary = kpd.get(at + "/reports/summary", min_position=second.json()["position"]).json()
    auditor = sqlite_service.auditor("KPD")
    lines = [e["line"] for e in auditor.get(at + "/history").json()["events"]]
    assert (first.status_code, second.status_code) == (200, 200)
    assert summary["nature_of_incident"] == "Riot downtown"
    assert summary["basis_for_decisions"][0]["facts_for_response"] == "Two deputies free"
    assert [(c["fact"], c["original"], c["corrected"]) for c in summary["corrections"]] == [
        ("incident.nature", "Civil disturbance downtown", "Riot downtown"),
        (
            "response.facts",
            "Two deputies free; the rest are covering a crash on I-94",
            "Two deputies free",
        ),
    ]
    assert any("opened case K-2026-0001: Civil disturbance downtown" in line for line in lines)
    assert any(
        "corrected incident.nature to 'Riot downtown': typo in CAD" in line for line in lines
    )


def test_only_the_agency_that_recorded_a_fact_corrects_it(sqlite_service: Service) -> None:
    kpd, kcsd = sqlite_service.cad("KPD"), sqlite_service.cad("KCSD")
    incident, _ = run_lifecycle(kpd, kcsd, sqlite_service.cad("PPPD"))
    before = sqlite_service.log_length()

    theirs = kpd.post(f"/v1/incidents/{incident}/corrections", correction("response.facts", "x", 1))
    ours = kcsd.post(f"/v1/incidents/{incident}/corrections", correction("incident.nature", "x"))

    assert (theirs.status_code, theirs.json()["type"]) == (403, P + "not-authorized")
    assert (ours.status_code, ours.json()["type"]) == (403, P + "not-authorized")
    assert sqlite_service.log_length() == before


def test_a_request_fact_needs_its_request_number(sqlite_service: Service) -> None:
    kpd = sqlite_service.cad("KPD")
    incident = kpd.open()

    answer = kpd.post(f"/v1/incidents/{incident}/corrections", correction("request.facts", "x"))

    assert (answer.status_code, answer.json()["type"]) == (422, P + "invalid-command")


def test_a_response_is_not_corrected_before_it_is_given(sqlite_service: Service) -> None:
    kpd, kcsd = sqlite_service.cad("KPD"), sqlite_service.cad("KCSD")
    incident = kpd.open()
    kpd.post(f"/v1/incidents/{incident}/requests/1/approve", bodies.stamped())
    before = sqlite_service.log_length()

    early = kcsd.post(
        f"/v1/incidents/{incident}/corrections",
        correction("response.facts", "Corrected facts", 1, **bodies.actor("Lt. Ortiz", "lt")),
    )

    assert (early.status_code, early.json()["type"]) == (409, P + "rule-violation")
    assert sqlite_service.log_length() == before


def test_a_correction_dated_before_its_fact_is_refused_and_stores_nothing(
    sqlite_service: Service,
) -> None:
    kpd, kcsd = sqlite_service.cad("KPD"), sqlite_service.cad("KCSD")
    incident = kpd.open()
    at = f"/v1/incidents/{incident}"
    kpd.post(at + "/requests/1/approve", bodies.stamped())
    responded = kcsd.post(at + "/requests/1/respond", bodies.respond_body())  # at 02:05
    fix = correction("response.facts", "Two deputies", 1, **bodies.actor("Lt. Ortiz", "lt"))

    early = kcsd.post(at + "/corrections", {**fix, "occurred_at": "2026-11-01T02:04:59Z"})
    on_time = kcsd.post(
        at + "/corrections",
        {**fix, "occurred_at": "2026-11-01T02:05:00Z"},
        **{"If-Match": responded.headers["ETag"]},
    )

    assert (early.status_code, early.json()["type"]) == (422, P + "invalid-command")
    assert "before response.facts occurred (2026-11-01T02:05:00+00:00)" in early.json()["detail"]
    assert on_time.status_code == 200, "the refusal changed the incident's version"
    assert on_time.json()["version"] == responded.json()["version"] + 1
