"""Issue 5, must show 2: the state and both reports as of every version of a 20-event
scenario equal what the live service showed at that point; as of a log position and a
recorded time too; and as of a real-world time, late entries are marked."""

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import pytest

from tests.api import bodies
from tests.api.conftest import Cad, Service
from tests.api.test_full_incident_lifecycle import (
    involvement,
    kcsd_recall,
    pppd_request,
    pppd_response,
)
from tests.scenarios import REQUESTER


def steps(kpd: Cad, kcsd: Cad, pppd: Cad, at: str) -> list[tuple[Cad, str, dict[str, Any]]]:
    note = involvement()
    return [
        (kpd, "/requests/1/approve", bodies.stamped("2026-11-01T02:01:00Z")),
        (kcsd, "/requests/1/respond", bodies.respond_body()),
        (kpd, "/requests", {**bodies.stamped("2026-11-01T02:10:00Z"), **pppd_request()}),
        (kpd, "/requests/2/approve", bodies.stamped("2026-11-01T02:11:00Z")),
        (pppd, "/requests/2/respond", pppd_response()),
        (kcsd, "/requests/1/recall", kcsd_recall()),
        (kcsd, "/requests/1/officers/D-101/involvement", note),
        (kcsd, "/requests/1/officers/D-101/involvement", {**note, "involvement": "second note"}),
        (pppd, "/requests/2/officers/P-7/involvement", {**note, "actor": bodies.actor()}),
        (kpd, "/obligations/1/fulfil", bodies.stamped("2026-11-01T02:30:00Z")),
        (
            kpd,
            "/requests/2/release",
            bodies.stamped(
                "2026-11-01T02:50:00Z",
                officers=["P-8"],
                resources=[{"resource": "k9_unit", "quantity": 1}],
            ),
        ),
        (kpd, "/obligations/2/fulfil", bodies.stamped("2026-11-01T03:00:00Z")),
        *[
            (kcsd, "/requests/1/officers/D-101/involvement", {**note, "involvement": f"note {n}"})
            for n in range(3)
        ],
        (
            kpd,
            "/close",
            bodies.stamped("2026-11-01T03:30:00Z", outcome="dispersed", release_all=True),
        ),
    ]


def live(cad: Cad, incident: str, position: int) -> dict[str, Any]:
    at = f"/v1/incidents/{incident}"
    return {
        "incident": cad.get(at, min_position=position).json(),
        "summary": cad.get(at + "/reports/summary", min_position=position).json(),
        "full": cad.get(at + "/reports/full", min_position=position).json(),
    }


def as_of(cad: Cad, incident: str, **point: Any) -> dict[str, Any]:
    answer = cad.get(f"/v1/incidents/{incident}/as-of", **point)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def test_the_past_reads_as_the_live_service_showed_it_at_every_version(service: Service) -> None:
    kpd, kcsd, pppd = service.cad("KPD"), service.cad("KCSD"), service.cad("PPPD")
    auditor = service.auditor("KPD")
    opened = kpd.post("/v1/incidents", bodies.open_body()).json()
    incident = opened["incident_id"]
    seen = {opened["version"]: (opened["position"], live(kpd, incident, opened["position"]))}
    for cad, path, body in steps(kpd, kcsd, pppd, incident):
        written = cad.post(f"/v1/incidents/{incident}{path}", body).json()
        seen[written["version"]] = (written["position"], live(kpd, incident, written["position"]))
    history = auditor.get(f"/v1/incidents/{incident}/history").json()["events"]

    assert len(history) >= 20
    for entry in history:
        past = as_of(auditor, incident, version=entry["version"])
        assert past["incident"]["version"] == entry["version"]
        if entry["version"] in seen:
            position, shown = seen[entry["version"]]
            assert {k: past[k] for k in shown} == shown
            assert as_of(auditor, incident, position=position)["incident"] == shown["incident"]
            by_time = as_of(auditor, incident, recorded_at=entry["recorded_at"])
            assert by_time["incident"] == shown["incident"]


def test_as_of_a_real_world_time_marks_the_entries_recorded_later(sqlite_service: Service) -> None:
    kpd, auditor = sqlite_service.cad("KPD"), sqlite_service.auditor("KPD")
    incident = kpd.open()
    late = kpd.post(f"/v1/incidents/{incident}/requests/1/approve", bodies.stamped()).json()

    past = as_of(auditor, incident, occurred_at="2026-11-01T02:05:00Z")

    assert past["late_entries"] == [1, 2, late["version"]]
    assert past["incident"]["requests"][0]["status"] == "approved"
    entries = auditor.get(f"/v1/incidents/{incident}/history").json()["events"]
    assert all(e["late"] for e in entries)


def test_before_the_incident_existed_there_is_nothing_to_show(sqlite_service: Service) -> None:
    kpd, auditor = sqlite_service.cad("KPD"), sqlite_service.auditor("KPD")
    incident = kpd.open()

    answer = auditor.get(f"/v1/incidents/{incident}/as-of", occurred_at="2020-01-01T00:00:00Z")

    assert answer.status_code == 404


@pytest.mark.parametrize(
    ("point", "problem"),
    [({"version": 3}, "unknown-version"), ({"position": 1000}, "unknown-position")],
)
def test_a_point_past_the_end_is_refused_not_answered_with_the_present(
    sqlite_service: Service, point: dict[str, int], problem: str
) -> None:
    kpd, auditor = sqlite_service.cad("KPD"), sqlite_service.auditor("KPD")
    incident = kpd.open()  # versions 1 and 2 (the opening and its notice)

    answer = auditor.get(f"/v1/incidents/{incident}/as-of", **point)

    assert (answer.status_code, answer.json()["type"]) == (
        400,
        f"urn:mutual-aid-ledger:problem:{problem}",
    )
    assert auditor.get(f"/v1/incidents/{incident}/as-of", version=2).status_code == 200


def test_before_an_agency_was_asked_it_has_nothing_to_see(sqlite_service: Service) -> None:
    kpd, pppd_auditor = sqlite_service.cad("KPD"), sqlite_service.auditor("PPPD")
    incident = kpd.open()
    kpd.post(f"/v1/incidents/{incident}/requests", {**bodies.stamped(), **pppd_request()})

    answer = pppd_auditor.get(f"/v1/incidents/{incident}/as-of", version=1)

    assert (answer.status_code, answer.json()["type"]) == (
        404,
        "urn:mutual-aid-ledger:problem:not-party-then",
    )
    assert pppd_auditor.get(f"/v1/incidents/{incident}/as-of", version=3).status_code == 200


def test_real_world_times_that_contradict_the_order_are_refused_not_crashed(
    sqlite_service: Service,
) -> None:
    """Commands now refuse a step dated before the step it follows, but logs recorded before
    that may hold one: such an event is stored here as that code stored it."""
    kpd, auditor = sqlite_service.cad("KPD"), sqlite_service.auditor("KPD")
    incident = kpd.open()
    at = f"/v1/incidents/{incident}"
    kpd.post(at + "/requests", {**bodies.stamped("2026-11-01T03:00:00Z"), **pppd_request()})
    # The notice owed for request 2 claims to be given before request 2 was made.
    ledger = sqlite_service.services.ledger
    stored = ledger.load(UUID(incident))
    told = stored.obligations[2].obligation.recipients
    stored._fulfil(2, told, "told", REQUESTER, datetime(2026, 11, 1, 2, 30, tzinfo=UTC))
    ledger.save(stored)

    answer = auditor.get(f"{at}/as-of", occurred_at="2026-11-01T02:45:00Z")

    assert (answer.status_code, answer.json()["type"]) == (
        409,
        "urn:mutual-aid-ledger:problem:inconsistent-as-of",
    )
