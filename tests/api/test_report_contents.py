"""Kenosha 2.1 IV.B.1 and 4 (each request's date, time and requestor) and IV.C.1 and 2 (every
officer responding, the officer in charge too, and what the report cannot name), through HTTP.
"""

from typing import Any

from tests.api import bodies
from tests.api.conftest import Cad, Service

KENOSHA_PD = "Kenosha Police Department"
RUIZ = {
    **bodies.actor(),
    "agency": "KPD",
    "roles": [],
    "department": "KPD",
    "department_name": KENOSHA_PD,
}
MOSS = bodies.actor("Lt. Carla Moss", "lieutenant", "300")
FOUR = [{"resource": "patrol_officer", "quantity": 4}]


def kpd_asks_kcsd_then_pppd(kpd: Cad, kcsd: Cad) -> tuple[str, int]:
    """KCSD commits four officers without naming them, under its officer in charge; three
    hours after the first request, Lt. Moss asks PPPD."""
    incident = kpd.open("K-2026-0009", asked="KCSD")
    at = f"/v1/incidents/{incident}"
    unnamed = bodies.respond_body(decision="accepted", resources=FOUR, officers=[])
    later = {**bodies.stamped("2026-11-01T05:00:00Z"), "actor": MOSS}
    steps: list[tuple[Cad, str, dict[str, Any]]] = [
        (kpd, "/requests/1/approve", bodies.stamped()),
        (kcsd, "/requests/1/respond", unnamed),
        (kpd, "/requests", {**later, **bodies.request_fields("PPPD")}),
    ]
    for cad, path, body in steps:
        answer = cad.post(at + path, body)
        assert answer.status_code in (200, 201), answer.text
    return incident, answer.json()["position"]


def involvement() -> dict[str, Any]:
    return {
        **bodies.stamped("2026-11-01T03:00:00Z"),
        "actor": bodies.actor("Lt. Ben Ortiz", "lieutenant", "77"),
        "involvement": "Ran the perimeter",
        "observations": "",
    }


def test_kenosha_iv_b_1_and_4_each_request_shows_when_and_by_whom_it_was_made(
    service: Service,
) -> None:
    kpd, kcsd, pppd = service.cad("KPD"), service.cad("KCSD"), service.cad("PPPD")
    incident, position = kpd_asks_kcsd_then_pppd(kpd, kcsd)
    path = f"/v1/incidents/{incident}/reports/summary"

    whole = kpd.get(path, min_position=position).json()
    asked_later = pppd.get(path, min_position=position).json()

    moss = {
        **MOSS,
        "agency": "KPD",
        "roles": [],
        "department": "KPD",
        "department_name": KENOSHA_PD,
    }
    made = [(r["requested_at"], r["requested_by"]) for r in whole["responses"]]
    assert made == [("2026-11-01T02:00:00Z", RUIZ), ("2026-11-01T05:00:00Z", moss)]
    assert (whole["requested_at"], whole["requestor"]) == ("2026-11-01T02:00:00Z", RUIZ)
    assert (asked_later["requested_at"], asked_later["requestor"]) == (
        "2026-11-01T05:00:00Z",
        moss,
    )


def test_kenosha_iv_c_1_and_2_the_full_report_names_the_officer_in_charge_and_counts_the_rest(
    service: Service,
) -> None:
    kpd, kcsd = service.cad("KPD"), service.cad("KCSD")
    incident, _ = kpd_asks_kcsd_then_pppd(kpd, kcsd)
    at = f"/v1/incidents/{incident}"

    noted = kcsd.post(at + "/requests/1/officers/77/involvement", involvement())
    assert noted.status_code == 200, noted.text
    full = kpd.get(at + "/reports/full", min_position=noted.json()["position"]).json()

    [in_charge] = full["officers"]
    assert (in_charge["name"], in_charge["department"], in_charge["status"]) == (
        "Lt. Ben Ortiz",
        "KCSD",
        "in_charge",
    )
    assert [note["involvement"] for note in in_charge["involvement"]] == ["Ran the perimeter"]
    assert full["officer_names"] == [
        {
            "request_number": 1,
            "agency": "KCSD",
            "committed": FOUR,
            "officers_named": 0,
            "units_not_named": 4,
        }
    ]
