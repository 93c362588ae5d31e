"""One coherent story used as the OpenAPI examples: Kenosha PD (KPD) asks the County Sheriff
(KCSD) for four officers; the Sheriff sends two, naming the second once it knows who goes.
Posted in this order, every example works as written (tests/api/test_openapi.py proves it)."""

from typing import Any

from fastapi import Body


def example(summary: str, value: dict[str, Any]) -> Any:
    """A request-body example for one route, as FastAPI shows it in the OpenAPI."""
    return Body(openapi_examples={"kenosha": {"summary": summary, "value": value}})


KPD_OFFICER = {"name": "Ofc. Sam Park", "rank": "officer", "badge": "518"}
KPD_SERGEANT = {"name": "Sgt. Dana Ruiz", "rank": "sergeant", "badge": "412"}
KCSD_LIEUTENANT = {"name": "Lt. Ben Ortiz", "rank": "lieutenant", "badge": "77"}

REQUEST: dict[str, Any] = {
    "asked_agency": "KCSD",
    "resources": [{"resource": "patrol_officer", "quantity": 4}],
    "needed_at": "2026-11-01T02:15:00Z",
    "location": "52nd St & Sheridan Rd",
    "report_to": "Lt. Carla Moss at the command post",
    "facts": "Crowd of about 300; bottles thrown at officers",
    "staging_area": "Library parking lot",
    "radio_channel": "KENOSHA MA-1",
}

OPEN: dict[str, Any] = {
    "case_number": "K-2026-0001",
    "nature": "Civil disturbance downtown",
    "kind": "emergency",
    "location": "Downtown Kenosha",
    "actor": KPD_OFFICER,  # so the sergeant's approval is needed (Kenosha IV.A)
    "occurred_at": "2026-11-01T02:00:00Z",
    "request": REQUEST,
}

APPROVE = {"actor": KPD_SERGEANT, "occurred_at": "2026-11-01T02:01:00Z"}

RESPOND: dict[str, Any] = {
    "actor": KCSD_LIEUTENANT,
    "occurred_at": "2026-11-01T02:05:00Z",
    "decision": "partially_accepted",
    "facts": "Two deputies free; the rest cover a crash on I-94",
    "resources": [{"resource": "patrol_officer", "quantity": 2}],
    "officers": [{"name": "Deputy Ann Lee", "badge": "D-101", "rank": "deputy"}],
    "officer_in_charge": KCSD_LIEUTENANT,
}

NAME_OFFICERS: dict[str, Any] = {
    "actor": KCSD_LIEUTENANT,
    "occurred_at": "2026-11-01T02:10:00Z",
    "officers": [{"name": "Deputy Raj Patel", "badge": "D-102", "rank": "deputy"}],
}

ARRIVAL = {"actor": KCSD_LIEUTENANT, "occurred_at": "2026-11-01T02:20:00Z"}

RECALL: dict[str, Any] = {
    "actor": KCSD_LIEUTENANT,
    "occurred_at": "2026-11-01T02:40:00Z",
    "resources": [{"resource": "patrol_officer", "quantity": 1}],
    "officers": ["D-102"],
    "reason": "Needed at a fatal crash on I-94",
}

INVOLVEMENT = {
    "actor": KCSD_LIEUTENANT,
    "occurred_at": "2026-11-01T03:20:00Z",
    "involvement": "Held the north line on 52nd St; assisted in two arrests",
    "observations": "Crowd thinned after 03:00; no injuries seen",
}

RELEASE: dict[str, Any] = {
    "actor": KPD_SERGEANT,
    "occurred_at": "2026-11-01T03:25:00Z",
    "everything": True,
    "reason": "Crowd dispersed",
}

ADD_REQUEST: dict[str, Any] = {
    "actor": KPD_SERGEANT,
    "occurred_at": "2026-11-01T02:10:00Z",
    **REQUEST,
    "asked_agency": "PPPD",
    "facts": "The Sheriff could send only two deputies (Kenosha IV.D)",
}

CANCEL = {"actor": KPD_SERGEANT, "occurred_at": "2026-11-01T02:20:00Z", "reason": "Enough help"}

FULFIL: dict[str, Any] = {
    "actor": KPD_SERGEANT,
    "occurred_at": "2026-11-01T03:40:00Z",
    "recipients": ["Chief of Police", "Deputy Assistant Chief", "Inspector of Police"],
    "note": "Summary e-mailed (Kenosha 2.1 IV.B)",
}

CORRECTION: dict[str, Any] = {
    "actor": KPD_SERGEANT,
    "occurred_at": "2026-11-01T03:45:00Z",
    "fact": "incident.location",
    "value": "52nd St & Sheridan Rd, Kenosha",
    "reason": "The CAD sent the district name instead of the intersection",
}

CLOSE = {
    "actor": KPD_SERGEANT,
    "occurred_at": "2026-11-01T03:30:00Z",
    "outcome": "Crowd dispersed by 03:15; three arrests, no injuries",
    "release_all": False,
}

ACTIVITY: dict[str, Any] = {
    "case_number": "A-2026-0042",
    "nature": "Pursuit of a stolen vehicle that ended in Worth",
    "location": "111th St & Harlem Ave, Worth",
    "jurisdiction": "WORTH-PD",
    "actor": {"name": "Officer Sam Kowalski", "rank": "officer", "badge": "218"},
    "occurred_at": "2026-11-01T04:10:00Z",
}

WRITTEN: dict[str, Any] = {
    "incident_id": "7d1c3c2e-1b0a-5b8f-9a41-6d2f0b8e7c15",
    "version": 2,
    "position": 2,
}
