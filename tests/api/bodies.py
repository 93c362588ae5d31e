"""Request bodies for the API tests: valid by default, overridable per test."""

from typing import Any

T0 = "2026-11-01T02:00:00Z"
AFTER_RESPONSE = "2026-11-01T02:30:00Z"  # for the steps that follow respond_body's (02:05)


def actor(
    name: str = "Sgt. Dana Ruiz", rank: str = "sergeant", badge: str = "412"
) -> dict[str, Any]:
    return {"name": name, "rank": rank, "badge": badge}


def request_fields(asked: str = "KCSD", **overrides: Any) -> dict[str, Any]:
    return {
        "asked_agency": asked,
        "resources": [{"resource": "patrol_officer", "quantity": 4}],
        "needed_at": "2026-11-01T02:15:00Z",
        "location": "52nd St & Sheridan Rd",
        "report_to": "Lt. Carla Moss at the command post",
        "facts": "Crowd of about 300 after the game; bottles thrown at officers",
        "staging_area": "Library parking lot",
        "radio_channel": "KENOSHA MA-1",
        **overrides,
    }


def open_body(
    case_number: str = "K-2026-0001", asked: str = "KCSD", **overrides: Any
) -> dict[str, Any]:
    return {
        "case_number": case_number,
        "nature": "Civil disturbance downtown",
        "kind": "emergency",
        "location": "Downtown Kenosha",
        "actor": actor(),
        "occurred_at": T0,
        "request": request_fields(asked),
        **overrides,
    }


def respond_body(**overrides: Any) -> dict[str, Any]:
    return {
        "actor": actor("Lt. Ben Ortiz", "lieutenant", "77"),
        "occurred_at": "2026-11-01T02:05:00Z",
        "decision": "partially_accepted",
        "facts": "Two deputies free; the rest are covering a crash on I-94",
        "resources": [{"resource": "patrol_officer", "quantity": 2}],
        "officers": [
            {"name": "Deputy Ann Lee", "badge": "D-101", "rank": "deputy"},
            {"name": "Deputy Raj Patel", "badge": "D-102", "rank": "deputy"},
        ],
        "officer_in_charge": {"name": "Lt. Ben Ortiz", "badge": "77", "rank": "lieutenant"},
        **overrides,
    }


def stamped(occurred_at: str = "2026-11-01T02:01:00Z", **fields: Any) -> dict[str, Any]:
    """A body of the simple commands: who, when, plus the given fields."""
    return {"actor": actor(), "occurred_at": occurred_at, **fields}
