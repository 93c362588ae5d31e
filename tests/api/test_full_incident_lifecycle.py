"""Must show 1: a full lifecycle through HTTP (two agencies asked, partial acceptance, partial
recall, close) produces the exact Kenosha summary and full incident report, on each store."""

from typing import Any

import pytest

from domain.incident import Incident
from projections import incident_view
from tests.api import bodies
from tests.api.conftest import Cad, Service

KENOSHA_PD = "Kenosha Police Department"
KENOSHA_SHERIFF = "Kenosha County Sheriff's Department"
KPD_SERGEANT = {
    "agency": "KPD",
    "name": "Sgt. Dana Ruiz",
    "rank": "sergeant",
    "badge": "412",
    "roles": [],
}
KCSD_LIEUTENANT = {
    "agency": "KCSD",
    "name": "Lt. Ben Ortiz",
    "rank": "lieutenant",
    "badge": "77",
    "roles": [],
}
PPPD_SERGEANT = {
    "agency": "PPPD",
    "name": "Sgt. Ivy Holt",
    "rank": "sergeant",
    "badge": "31",
    "roles": [],
}
KENOSHA_IV_A = {
    "policy_id": "kenosha-wi",
    "version": 1,
    "section": "Kenosha 2.1 IV.A: made or approved by a supervisor (III.B: Sergeant or higher) "
    "before assistance",
}
KENOSHA_MADE_BY_SUPERVISOR = {
    **KENOSHA_IV_A,
    "section": "Kenosha 2.1 IV.A: made by a supervisor (III.B: Sergeant or higher), so approved "
    "as it is made",
}
KENOSHA_IV_B = {
    "policy_id": "kenosha-wi",
    "version": 1,
    "section": "Kenosha 2.1 IV.B: all requests for mutual assistance must be reported",
}
GENERIC = {
    "policy_id": "generic",
    "version": 1,
    "section": "Generic profile: any member of the agency",
}
COMMAND_STAFF = [
    "Chief of Police",
    "Deputy Assistant Chief",
    "Inspector of Police",
    "Patrol Shift Commander",
]


def run_lifecycle(kpd: Cad, kcsd: Cad, pppd: Cad) -> tuple[str, int]:
    incident = kpd.open("K-2026-0001", asked="KCSD")
    at = f"/v1/incidents/{incident}"
    # Sgt. Ruiz's requests are approved as they are made (Kenosha IV.A); approving them as
    # well is recorded all the same.
    steps = [
        (kpd, "/requests/1/approve", bodies.stamped("2026-11-01T02:01:00Z")),
        (kcsd, "/requests/1/respond", bodies.respond_body()),
        (kpd, "/requests", {**bodies.stamped("2026-11-01T02:10:00Z"), **pppd_request()}),
        (kpd, "/requests/2/approve", bodies.stamped("2026-11-01T02:11:00Z")),
        (pppd, "/requests/2/respond", pppd_response()),
        (kcsd, "/requests/1/recall", kcsd_recall()),
        (kcsd, "/requests/1/officers/D-101/involvement", involvement()),
        (kpd, "/close", bodies.stamped("2026-11-01T03:30:00Z", **closure())),
        (kpd, "/obligations/1/fulfil", bodies.stamped("2026-11-01T03:40:00Z", note="E-mailed")),
        (kpd, "/obligations/2/fulfil", shift_commander_told()),
    ]
    for cad, path, body in steps:
        answer = cad.post(at + path, body)
        assert answer.status_code in (200, 201), answer.text
    return incident, answer.json()["position"]


def pppd_request() -> dict[str, Any]:
    return bodies.request_fields(
        "PPPD",
        resources=[
            {"resource": "patrol_officer", "quantity": 2},
            {"resource": "k9_unit", "quantity": 1},
        ],
        facts="Sheriff could send only two deputies (Kenosha IV.D: Pleasant Prairie next)",
    )


def pppd_response() -> dict[str, Any]:
    return {
        "actor": {"name": "Sgt. Ivy Holt", "rank": "sergeant", "badge": "31"},
        "occurred_at": "2026-11-01T02:14:00Z",
        "decision": "accepted",
        "facts": "Evening shift fully staffed",
        "resources": [
            {"resource": "k9_unit", "quantity": 1},
            {"resource": "patrol_officer", "quantity": 2},
        ],
        "officers": [
            {"name": "Officer Tom Reyes", "badge": "P-7", "rank": "officer"},
            {"name": "Officer Mia Chen", "badge": "P-8", "rank": "k9 handler"},
        ],
    }


def kcsd_recall() -> dict[str, Any]:
    return {
        "actor": {"name": "Lt. Ben Ortiz", "rank": "lieutenant", "badge": "77"},
        "occurred_at": "2026-11-01T02:40:00Z",
        "resources": [{"resource": "patrol_officer", "quantity": 1}],
        "officers": ["D-102"],
        "reason": "Needed at a fatal crash on I-94",
    }


def involvement() -> dict[str, Any]:
    return {
        "actor": {"name": "Lt. Ben Ortiz", "rank": "lieutenant", "badge": "77"},
        "occurred_at": "2026-11-01T03:20:00Z",
        "involvement": "Held the north line on 52nd St; assisted in two arrests",
        "observations": "Crowd thinned after 03:00; no injuries seen",
    }


def shift_commander_told() -> dict[str, Any]:
    return bodies.stamped(
        "2026-11-01T03:41:00Z", recipients=["Patrol Shift Commander"], note="Told by radio"
    )


def closure() -> dict[str, Any]:
    return {"outcome": "Crowd dispersed by 03:15; three arrests, no injuries", "release_all": True}


EXPECTED_SUMMARY: dict[str, Any] = {
    "requested_at": "2026-11-01T02:00:00Z",
    "case_number": "K-2026-0001",
    "nature_of_incident": "Civil disturbance downtown",
    "requestor": {**KPD_SERGEANT, "department": "KPD", "department_name": KENOSHA_PD},
    "basis_for_decisions": [
        {
            "request_number": 1,
            "agency": "KCSD",
            "facts_for_request": "Crowd of about 300 after the game; bottles thrown at officers",
            "facts_for_response": "Two deputies free; the rest are covering a crash on I-94",
        },
        {
            "request_number": 2,
            "agency": "PPPD",
            "facts_for_request": "Sheriff could send only two deputies "
            "(Kenosha IV.D: Pleasant Prairie next)",
            "facts_for_response": "Evening shift fully staffed",
        },
    ],
    "responses": [
        {
            "request_number": 1,
            "agency": "KCSD",
            "status": "partially_accepted",
            "requested": [{"resource": "patrol_officer", "quantity": 4}],
            "requested_at": "2026-11-01T02:00:00Z",
            "requested_by": {**KPD_SERGEANT, "department": "KPD", "department_name": KENOSHA_PD},
            "committed": [{"resource": "patrol_officer", "quantity": 2}],
            "still_deployed": [],
            "approved_by": KPD_SERGEANT,
            "responded_by": KCSD_LIEUTENANT,
            "officer_in_charge": {
                "name": "Lt. Ben Ortiz",
                "badge": "77",
                "agency": "KCSD",
                "rank": "lieutenant",
            },
        },
        {
            "request_number": 2,
            "agency": "PPPD",
            "status": "accepted",
            "requested": [
                {"resource": "patrol_officer", "quantity": 2},
                {"resource": "k9_unit", "quantity": 1},
            ],
            "requested_at": "2026-11-01T02:10:00Z",
            "requested_by": {**KPD_SERGEANT, "department": "KPD", "department_name": KENOSHA_PD},
            "committed": [
                {"resource": "k9_unit", "quantity": 1},
                {"resource": "patrol_officer", "quantity": 2},
            ],
            "still_deployed": [],
            "approved_by": KPD_SERGEANT,
            "responded_by": PPPD_SERGEANT,
            "officer_in_charge": None,
        },
    ],
    "outcome": "Crowd dispersed by 03:15; three arrests, no injuries",
    "status": "closed",
    "closed_at": "2026-11-01T03:30:00Z",
    "policy_decisions": [
        {
            "request_number": number,
            "agency": agency,
            "requested_under": KENOSHA_MADE_BY_SUPERVISOR,
            "approved_under": KENOSHA_IV_A,
            "responded_under": GENERIC,
            "exceptions": [],
        }
        for number, agency in ((1, "KCSD"), (2, "PPPD"))
    ],
    "obligations": [
        {
            "number": 1,
            "party": "KPD",
            "kind": "notify",
            "recipients": COMMAND_STAFF,
            "outstanding": [],
            "status": "met",
            "rule": KENOSHA_IV_B,
            "request_number": 1,
            "created_at": "2026-11-01T02:00:00Z",
            "met_at": "2026-11-01T03:40:00Z",
            "fulfilments": [
                {
                    "recipients": COMMAND_STAFF,
                    "note": "E-mailed",
                    "by": KPD_SERGEANT,
                    "occurred_at": "2026-11-01T03:40:00Z",
                }
            ],
        },
        {
            "number": 2,
            "party": "KPD",
            "kind": "notify",
            "recipients": COMMAND_STAFF,
            "outstanding": COMMAND_STAFF[:3],
            "status": "open",
            "rule": KENOSHA_IV_B,
            "request_number": 2,
            "created_at": "2026-11-01T02:10:00Z",
            "met_at": None,
            "fulfilments": [
                {
                    "recipients": ["Patrol Shift Commander"],
                    "note": "Told by radio",
                    "by": KPD_SERGEANT,
                    "occurred_at": "2026-11-01T03:41:00Z",
                }
            ],
        },
    ],
    "open_obligations": 1,
    "corrections": [],
}

CLOSED_BY_KPD = {
    "by": KPD_SERGEANT,
    "occurred_at": "2026-11-01T03:30:00Z",
    "reason": "incident closed",
}

EXPECTED_FULL_EXTRA: dict[str, Any] = {
    "officers": [
        {
            "request_number": 1,
            "name": "Lt. Ben Ortiz",
            "badge": "77",
            "rank": "lieutenant",
            "department": "KCSD",
            "department_name": KENOSHA_SHERIFF,
            "status": "in_charge",
            "involvement": [],
        },
        {
            "request_number": 1,
            "name": "Deputy Ann Lee",
            "badge": "D-101",
            "rank": "deputy",
            "department": "KCSD",
            "department_name": KENOSHA_SHERIFF,
            "status": "released",
            "involvement": [
                {
                    "involvement": "Held the north line on 52nd St; assisted in two arrests",
                    "observations": "Crowd thinned after 03:00; no injuries seen",
                    "recorded_by": KCSD_LIEUTENANT,
                    "occurred_at": "2026-11-01T03:20:00Z",
                }
            ],
        },
        {
            "request_number": 1,
            "name": "Deputy Raj Patel",
            "badge": "D-102",
            "rank": "deputy",
            "department": "KCSD",
            "department_name": KENOSHA_SHERIFF,
            "status": "recalled",
            "involvement": [],
        },
        {
            "request_number": 2,
            "name": "Officer Tom Reyes",
            "badge": "P-7",
            "rank": "officer",
            "department": "PPPD",
            "department_name": "Village of Pleasant Prairie Police Department",
            "status": "released",
            "involvement": [],
        },
        {
            "request_number": 2,
            "name": "Officer Mia Chen",
            "badge": "P-8",
            "rank": "k9 handler",
            "department": "PPPD",
            "department_name": "Village of Pleasant Prairie Police Department",
            "status": "released",
            "involvement": [],
        },
    ],
    "officer_names": [
        {
            "request_number": 1,
            "agency": "KCSD",
            "committed": [{"resource": "patrol_officer", "quantity": 2}],
            "officers_named": 2,
            "units_not_named": 0,
        },
        {
            "request_number": 2,
            "agency": "PPPD",
            "committed": [
                {"resource": "k9_unit", "quantity": 1},
                {"resource": "patrol_officer", "quantity": 2},
            ],
            "officers_named": 2,
            "units_not_named": 1,  # 3 units, 2 names: the kinds do not say which is a person
        },
    ],
    "withdrawals": [
        {
            "request_number": 1,
            "kind": "recalled",
            "resources": [{"resource": "patrol_officer", "quantity": 1}],
            "badges": ["D-102"],
            "reason": "Needed at a fatal crash on I-94",
            "by": KCSD_LIEUTENANT,
            "occurred_at": "2026-11-01T02:40:00Z",
        },
        {
            "request_number": 1,
            "kind": "released",
            "resources": [{"resource": "patrol_officer", "quantity": 1}],
            "badges": ["D-101"],
            **CLOSED_BY_KPD,
        },
        {
            "request_number": 2,
            "kind": "released",
            "resources": [
                {"resource": "k9_unit", "quantity": 1},
                {"resource": "patrol_officer", "quantity": 2},
            ],
            "badges": ["P-7", "P-8"],
            **CLOSED_BY_KPD,
        },
    ],
}


def test_lifecycle_produces_the_exact_kenosha_summary_and_full_report(service: Service) -> None:
    kpd, kcsd, pppd = service.cad("KPD"), service.cad("KCSD"), service.cad("PPPD")
    incident, position = run_lifecycle(kpd, kcsd, pppd)

    summary = kpd.get(f"/v1/incidents/{incident}/reports/summary", min_position=position)
    full = kpd.get(f"/v1/incidents/{incident}/reports/full", min_position=position)

    assert summary.status_code == 200, summary.text
    assert summary.json() == {"incident_id": incident, **EXPECTED_SUMMARY}
    assert full.json() == {"incident_id": incident, **EXPECTED_SUMMARY, **EXPECTED_FULL_EXTRA}


def test_the_requester_reads_all_each_agency_asked_its_part_and_outsiders_nothing(
    service: Service,
) -> None:
    kpd, kcsd, pppd = service.cad("KPD"), service.cad("KCSD"), service.cad("PPPD")
    incident, position = run_lifecycle(kpd, kcsd, pppd)
    path = f"/v1/incidents/{incident}/reports/full"

    whole, *parts = [cad.get(path, min_position=position).json() for cad in (kpd, kcsd, pppd)]
    outsider = service.cad("RACINE-PD").get(path, min_position=position)

    assert {r["agency"] for r in whole["responses"]} == {"KCSD", "PPPD"}
    for agency, part in zip(("KCSD", "PPPD"), parts, strict=True):
        assert part == only(whole, agency)
    assert outsider.status_code == 404


def only(report: dict[str, Any], agency: str) -> dict[str, Any]:
    """The report as an agency asked should read it: the incident, and its own part, headed
    by its own request."""
    mine = {r["request_number"] for r in report["responses"] if r["agency"] == agency}
    parts = ("basis_for_decisions", "responses", "policy_decisions", "officers", "officer_names")
    kept = {key: [x for x in report[key] if x["request_number"] in mine] for key in parts}
    first = kept["responses"][0]
    kept["requested_at"], kept["requestor"] = first["requested_at"], first["requested_by"]
    kept["withdrawals"] = [w for w in report["withdrawals"] if w["request_number"] in mine]
    kept["obligations"] = [
        o for o in report["obligations"] if o["party"] == agency or o["request_number"] in mine
    ]
    kept["open_obligations"] = sum(o["status"] == "open" for o in kept["obligations"])
    return {**report, **kept}


def test_health_reports_how_far_the_projections_lag_behind_the_log(service: Service) -> None:
    kpd, kcsd, pppd = service.cad("KPD"), service.cad("KCSD"), service.cad("PPPD")
    _, position = run_lifecycle(kpd, kcsd, pppd)
    assert service.services.projection.wait_for(position, timeout=10)
    assert service.services.seal_to_head(timeout=10)

    health = service.client.get("/healthz").json()

    assert health == {
        "status": "ok",
        "log_position": position,
        "projection_position": position,
        "projection_lag": 0,
        "seal_lag": 0,
        "stalled": [],
        "access_log_spooled": 0,
    }


def test_health_says_which_event_stalled_the_projection_and_why(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(rows: incident_view.Rows, e: Incident.IncidentClosed) -> None:
        raise ValueError("no outcome column")

    closing: type[Any] = Incident.IncidentClosed
    monkeypatch.setitem(incident_view.HANDLERS, closing, broken)
    kpd, kcsd, pppd = service.cad("KPD"), service.cad("KCSD"), service.cad("PPPD")
    _, last = run_lifecycle(kpd, kcsd, pppd)
    ledger = service.services.ledger
    [closed] = [
        n.id
        for n in ledger.recorder.select_notifications(0, last)
        if isinstance(ledger.mapper.to_domain_event(n), Incident.IncidentClosed)
    ]
    projection = service.services.projection
    with pytest.raises(ValueError, match="no outcome column"):
        projection.run_until_caught_up()  # as the runner's thread does, one batch at a time
    answer = service.client.get("/healthz")
    stalled = answer.json()

    monkeypatch.undo()
    projection.run_until_caught_up()
    resumed = service.client.get("/healthz").json()

    assert (answer.status_code, stalled["status"]) == (200, "stalled")
    assert resumed["status"] == "ok"
    assert stalled["projection_position"] == closed - 1
    assert stalled["stalled"] == [
        {"projection": "incidents", "position": closed, "error": "ValueError"}
    ]
    assert resumed["stalled"] == []
    assert resumed["projection_lag"] == 0
    assert resumed["projection_position"] == last
