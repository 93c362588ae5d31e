"""The read behind the status board, on both stores."""

from datetime import UTC, datetime
from typing import Any, cast

import pytest
from fastapi import FastAPI

from api.deps import clock
from projections import board
from tests.api import bodies
from tests.api.conftest import Cad, Service
from tests.api.test_full_incident_lifecycle import pppd_request, pppd_response

# The day the boards are read on: their months count back from it, not from the day the
# tests run (or the requests of November 2026 would leave the window one day).
DAY = datetime(2026, 12, 6, tzinfo=UTC)
VALIDATION_FAILED = "urn:mutual-aid-ledger:problem:validation-failed"


def read_on(service: Service, day: datetime) -> None:
    cast(FastAPI, service.client.app).dependency_overrides[clock] = lambda: day


def answered(requester: Cad, asked: Cad, case: str, at: str) -> Any:
    """An incident opened at ``at`` with one request, answered with help at once."""
    request = bodies.request_fields(asked.agency, needed_at=at)
    path = f"/v1/incidents/{requester.open(case, asked.agency, occurred_at=at, request=request)}"
    requester.post(path + "/requests/1/approve", bodies.stamped(at))
    return asked.post(path + "/requests/1/respond", bodies.respond_body(occurred_at=at)).json()


def test_the_board_shows_open_incidents_deployments_obligations_and_aid_per_month(
    service: Service,
) -> None:
    read_on(service, DAY)
    kpd, kcsd = service.cad("KPD"), service.cad("KCSD")
    incident = kpd.open("K-1")
    at = f"/v1/incidents/{incident}"
    kpd.post(at + "/requests/1/approve", bodies.stamped())
    written = kcsd.post(at + "/requests/1/respond", bodies.respond_body()).json()

    board = kpd.get("/v1/board", min_position=written["position"]).json()
    sheriff = kcsd.get("/v1/board", min_position=written["position"]).json()

    [open_incident] = board["open_incidents"]
    assert open_incident["requests"] == [
        {
            "number": 1,
            "agency": "KCSD",
            "status": "partially_accepted",
            "deployed": {"patrol_officer": 2},
        }
    ]
    assert board["deployed_by_agency"] == {"KCSD": {"patrol_officer": 2}}
    assert [o["kind"] for o in board["open_obligations"]] == ["notify"]
    assert board["monthly"] == [{"month": "2026-11", "given": 0, "received": 1}]
    assert sheriff["monthly"] == [{"month": "2026-11", "given": 1, "received": 0}]
    assert sheriff["open_obligations"] == []


def test_the_board_counts_and_totals_every_open_incident_not_only_those_it_lists(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(board, "LISTED", 2)
    kpd, kcsd, pppd = service.cad("KPD"), service.cad("KCSD"), service.cad("PPPD")
    for case in ("K-1", "K-2", "K-3"):
        at = f"/v1/incidents/{kpd.open(case)}"
        kpd.post(at + "/requests/1/approve", bodies.stamped())
        kcsd.post(at + "/requests/1/respond", bodies.respond_body())
    kpd.post(at + "/requests", {**bodies.stamped("2026-11-01T02:10:00Z"), **pppd_request()})
    kpd.post(at + "/requests/2/approve", bodies.stamped("2026-11-01T02:11:00Z"))
    written = pppd.post(at + "/requests/2/respond", pppd_response()).json()

    requester = kpd.get("/v1/board", min_position=written["position"]).json()
    sheriff = kcsd.get("/v1/board", min_position=written["position"]).json()

    assert requester["deployed_by_agency"] == {
        "KCSD": {"patrol_officer": 6},
        "PPPD": {"k9_unit": 1, "patrol_officer": 2},
    }
    assert sheriff["deployed_by_agency"] == {"KCSD": {"patrol_officer": 6}}
    assert len(requester["open_incidents"]) == 2
    assert (requester["open_incident_count"], sheriff["open_incident_count"]) == (3, 3)


@pytest.mark.parametrize("unknown", ["Central", "America", "../../etc/passwd", "Z" * 200])
def test_the_months_are_counted_in_the_calendar_asked_for(
    sqlite_service: Service, unknown: str
) -> None:
    read_on(sqlite_service, DAY)
    kpd, kcsd = sqlite_service.cad("KPD"), sqlite_service.cad("KCSD")
    incident = kpd.open("K-1")  # asked at 02:00 UTC on 1 November: 31 October in Kenosha
    at = f"/v1/incidents/{incident}"
    kpd.post(at + "/requests/1/approve", bodies.stamped())
    written = kcsd.post(at + "/requests/1/respond", bodies.respond_body()).json()
    projected = {"min_position": written["position"]}
    months = {
        zone: kpd.get("/v1/board", time_zone=zone, **projected).json()["monthly"]
        for zone in ("UTC", "America/Chicago")
    }
    refused = kpd.get("/v1/board", time_zone=unknown)

    assert months == {
        "UTC": [{"month": "2026-11", "given": 0, "received": 1}],
        "America/Chicago": [{"month": "2026-10", "given": 0, "received": 1}],
    }
    assert (refused.status_code, refused.json()["type"]) == (422, VALIDATION_FAILED)


def test_the_board_counts_the_months_of_its_window_from_their_first_instant_in_the_zone(
    service: Service,
) -> None:
    read_on(service, DAY)
    kpd, kcsd = service.cad("KPD"), service.cad("KCSD")
    # Kenosha's November begins at 05:00 UTC: a minute before, it is October's last evening.
    answered(kpd, kcsd, "K-1", "2026-11-01T04:59:00Z")
    written = answered(kpd, kcsd, "K-2", "2026-11-01T05:00:00Z")
    two_months = {"months": 2, "min_position": written["position"]}

    requester = kpd.get("/v1/board", time_zone="America/Chicago", **two_months).json()
    sheriff = kcsd.get("/v1/board", time_zone="America/Chicago", **two_months).json()
    in_utc = kpd.get("/v1/board", time_zone="UTC", **two_months).json()

    assert requester["monthly"] == [{"month": "2026-11", "given": 0, "received": 1}]
    assert sheriff["monthly"] == [{"month": "2026-11", "given": 1, "received": 0}]
    assert in_utc["monthly"] == [{"month": "2026-11", "given": 0, "received": 2}]


@pytest.mark.parametrize("months", ["0", "61", "a year"])
def test_a_window_of_other_than_1_to_60_months_is_refused(kenosha: Cad, months: str) -> None:
    refused = kenosha.get("/v1/board", months=months)

    assert (refused.status_code, refused.json()["type"]) == (422, VALIDATION_FAILED)
