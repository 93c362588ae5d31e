"""One plain-language line per event, for the history an auditor reads."""

from collections.abc import Callable, Iterable
from typing import Any

from domain.incident import Incident
from domain.policy import PolicyRef
from domain.values import Actor, ResourceLine, Withdrawal


def describe(event: Any) -> str:
    return f"{who(event.actor)} {LINES[type(event)](event)}"


def who(actor: Actor) -> str:
    badge = f" #{actor.badge}" if actor.badge else ""
    return f"{actor.name}{badge} ({actor.rank}, {actor.agency})"


def under(rule: PolicyRef) -> str:
    return f"under {rule.policy_id} v{rule.version}, {rule.section}"


def amounts(lines: Iterable[ResourceLine]) -> str:
    return ", ".join(f"{line.quantity} {line.resource}" for line in lines) or "nothing"


def withdrawn(w: Withdrawal) -> str:
    officers = f" and officers {', '.join(w.badges)}" if w.badges else ""
    reason = f" ({w.reason})" if w.reason else ""
    return f"{amounts(w.resources)}{officers}{reason}"


def requested(e: Any) -> str:
    emergency = " as an emergency" if e.exception else ""
    return (
        f"asked {e.details.agency} for {amounts(e.details.resources)} "
        f"(request {e.number}){emergency} {under(e.authority)}"
    )


def responded(e: Any) -> str:
    r = e.response
    sent = "" if r.decision == "declined" else f", sending {amounts(r.resources)}"
    exception = f" by {e.exception.kind} exception" if e.exception else ""
    return f"answered request {e.number}: {r.decision}{sent}{exception} {under(e.authority)}"


LINES: dict[type[Any], Callable[[Any], str]] = {
    Incident.IncidentOpened: lambda e: f"opened case {e.case_number}: {e.nature}",
    Incident.AssistanceRequested: requested,
    Incident.RequestApproved: lambda e: f"approved request {e.number} {under(e.authority)}",
    Incident.ResponseRecorded: responded,
    Incident.ResourcesRecalled: lambda e: (
        f"recalled {withdrawn(e.withdrawal)} from request {e.number}"
    ),
    Incident.ResourcesReleased: lambda e: (
        f"released {withdrawn(e.withdrawal)} from request {e.number}"
    ),
    Incident.ResourcesArrived: lambda e: f"recorded the arrival under request {e.number}",
    Incident.RequestCancelled: lambda e: (
        f"cancelled request {e.number} ({e.reason or 'no reason'})"
    ),
    Incident.OfficersNamed: lambda e: (
        f"named {', '.join(f'{o.name} #{o.badge}' for o in e.officers)} as sent under "
        f"request {e.number}"
    ),
    Incident.InvolvementRecorded: lambda e: f"recorded the involvement of officer {e.badge}",
    Incident.ActivityOutsideJurisdictionReported: lambda e: (
        f"reported activity in {e.jurisdiction}"
    ),
    Incident.ObligationFulfilled: lambda e: (
        f"met obligation {e.number}: told {', '.join(e.recipients)}"
    ),
    Incident.FactCorrected: lambda e: f"corrected {e.fact} to {e.value!r}: {e.reason}",
    Incident.IncidentClosed: lambda e: f"closed the incident: {e.outcome}",
}
