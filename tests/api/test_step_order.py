"""A step dated before the step it follows is refused with the problem of any bad time (422
invalid-command, naming what it would precede) and stores nothing: dated at the same time, it
is recorded at the version the refusal left."""

from typing import Any

from tests.api import bodies
from tests.api.conftest import Service
from tests.api.test_full_incident_lifecycle import pppd_request

P = "urn:mutual-aid-ledger:problem:"


def test_an_arrival_dated_before_the_response_is_refused_and_stores_nothing(
    sqlite_service: Service,
) -> None:
    kpd, kcsd = sqlite_service.cad("KPD"), sqlite_service.cad("KCSD")
    incident = kpd.open()
    at = f"/v1/incidents/{incident}/requests/1"
    kpd.post(at + "/approve", bodies.stamped())
    responded = kcsd.post(at + "/respond", bodies.respond_body())  # at 02:05
    before = sqlite_service.log_length()
    lieutenant = bodies.actor("Lt. Ben Ortiz", "lieutenant", "77")

    early = kcsd.post(at + "/arrive", bodies.stamped("2026-11-01T02:04:59Z", actor=lieutenant))
    logged = sqlite_service.log_length()
    on_time = kcsd.post(
        at + "/arrive",
        bodies.stamped("2026-11-01T02:05:00Z", actor=lieutenant),
        **{"If-Match": responded.headers["ETag"]},
    )

    assert (early.status_code, early.json()["type"]) == (422, P + "invalid-command")
    assert early.headers["content-type"] == "application/problem+json"
    assert early.json()["detail"] == (
        "occurred_at is before request 1 was answered (2026-11-01T02:05:00+00:00)"
    )
    assert logged == before
    assert on_time.status_code == 200, "the refusal changed the incident's version"
    assert on_time.json()["version"] == responded.json()["version"] + 1


def test_a_notice_dated_before_the_request_that_owes_it_is_refused_and_stores_nothing(
    sqlite_service: Service,
) -> None:
    kpd = sqlite_service.cad("KPD")
    at = f"/v1/incidents/{kpd.open()}"
    asked = kpd.post(at + "/requests", {**bodies.stamped("2026-11-01T03:00:00Z"), **pppd_request()})
    before = sqlite_service.log_length()

    early = kpd.post(at + "/obligations/2/fulfil", bodies.stamped("2026-11-01T02:59:59Z"))
    logged = sqlite_service.log_length()
    on_time = kpd.post(
        at + "/obligations/2/fulfil",
        bodies.stamped("2026-11-01T03:00:00Z"),
        **{"If-Match": asked.headers["ETag"]},
    )

    assert (early.status_code, early.json()["type"]) == (422, P + "invalid-command")
    assert early.json()["detail"] == (
        "occurred_at is before obligation 2 was owed (2026-11-01T03:00:00+00:00)"
    )
    assert logged == before
    assert on_time.status_code == 200, "the refusal changed the incident's version"


def test_a_close_dated_before_an_arrival_is_refused_and_stores_nothing(
    sqlite_service: Service,
) -> None:
    """The incident keeps its latest step's time, whatever the step: here an arrival, whose
    own time it kept nowhere before."""
    kpd, kcsd = sqlite_service.cad("KPD"), sqlite_service.cad("KCSD")
    incident = kpd.open()
    at = f"/v1/incidents/{incident}"
    kpd.post(at + "/requests/1/approve", bodies.stamped())
    kcsd.post(at + "/requests/1/respond", bodies.respond_body())  # at 02:05
    lieutenant = bodies.actor("Lt. Ben Ortiz", "lieutenant", "77")
    arrived = kcsd.post(
        at + "/requests/1/arrive", bodies.stamped("2026-11-01T03:00:00Z", actor=lieutenant)
    )
    before = sqlite_service.log_length()

    def close(occurred_at: str, **headers: str) -> Any:
        body = bodies.stamped(occurred_at, outcome="dispersed", release_all=True)
        return kpd.post(at + "/close", body, **headers)

    early = close("2026-11-01T02:59:59Z")
    logged = sqlite_service.log_length()
    on_time = close("2026-11-01T03:00:00Z", **{"If-Match": arrived.headers["ETag"]})

    assert (early.status_code, early.json()["type"]) == (422, P + "invalid-command")
    assert early.json()["detail"] == (
        "occurred_at is before the incident's latest step (2026-11-01T03:00:00+00:00)"
    )
    assert logged == before
    assert on_time.status_code == 200, "the refusal changed the incident's version"


def test_an_agency_asked_again_before_it_declined_is_refused_and_stores_nothing(
    sqlite_service: Service,
) -> None:
    kpd, pppd = sqlite_service.cad("KPD"), sqlite_service.cad("PPPD")
    at = f"/v1/incidents/{kpd.open()}/requests"
    kpd.post(at, {**bodies.stamped("2026-11-01T02:10:00Z"), **pppd_request()})  # request 2
    declined = pppd.post(
        at + "/2/respond",
        bodies.respond_body(
            actor=bodies.actor("Sgt. Ivy Holt", "sergeant", "31"),
            occurred_at="2026-11-01T03:00:00Z",
            decision="declined",
            facts="Every unit is on a fire scene",
            resources=[],
            officers=[],
            officer_in_charge=None,
        ),
    )
    before = sqlite_service.log_length()

    def ask_again(occurred_at: str, **headers: str) -> Any:
        return kpd.post(at, {**bodies.stamped(occurred_at), **pppd_request()}, **headers)

    early = ask_again("2026-11-01T02:59:59Z")
    logged = sqlite_service.log_length()
    on_time = ask_again("2026-11-01T03:00:00Z", **{"If-Match": declined.headers["ETag"]})

    assert declined.status_code == 200, declined.text
    assert (early.status_code, early.json()["type"]) == (422, P + "invalid-command")
    assert early.json()["detail"] == (
        "occurred_at is before request 2 was answered (2026-11-01T03:00:00+00:00)"
    )
    assert logged == before
    assert on_time.status_code == 201, "the refusal changed the incident's version"
