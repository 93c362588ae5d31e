"""Kenosha 2.1 reports, built as pure functions from read-model rows.

IV.B (summary, to the Chief, Deputy Assistant Chief, Inspector and Patrol Shift Commander):
1 date and time of the request, 2 case number, 3 nature of incident, 4 requestor and their
department, 5 facts on which the decision to request or supply assistance was based, 6 the type
of response made, 7 the outcome. IV.C (full incident report): all of IV.B plus 1 the names of
all officers responding and their departments, 2 the details of involvement and observations of
each officer.

Each request carries its own date and time and requestor (IV.B.1 and 4): an incident may ask
several agencies, at different times and by different people. The officer in charge of a
detail is among the officers responding (IV.C.1), and the full report counts, per request,
the committed units no officer is named for, so a report without names reads as incomplete
rather than as nobody sent.
"""

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from projections.queries import IncidentRows, Row
from projections.tables import IN_CHARGE

OUTCOME_PENDING = "Incident still open; no outcome recorded yet."
# Agency code to the department's name (IV.B.4 and IV.C.1 name departments; the rows keep codes).
Departments = Mapping[str, str]


def summary_report(rows: IncidentRows, departments: Departments) -> dict[str, Any]:
    incident = rows.incident
    requested_at, requested_by = first_request(rows)
    return {
        "incident_id": incident["incident_id"],
        "requested_at": requested_at,
        "case_number": incident["case_number"],
        "nature_of_incident": incident["nature"],
        "requestor": requestor(requested_by, departments),
        "basis_for_decisions": [decision_basis(r) for r in rows.requests],
        "responses": [response_made(r, departments) for r in rows.requests],
        "outcome": incident["outcome"] or OUTCOME_PENDING,
        "status": incident["status"],
        "closed_at": incident["closed_at"],
        "policy_decisions": [policy_decisions(r) for r in rows.requests],
        "obligations": [obligation_entry(o) for o in rows.obligations],
        "open_obligations": sum(o["status"] == "open" for o in rows.obligations),
        "corrections": incident["corrections"],
    }


def full_report(rows: IncidentRows, departments: Departments) -> dict[str, Any]:
    return {
        **summary_report(rows, departments),
        "officers": [officer_entry(o, departments) for o in rows.officers],
        "officer_names": [names_given(r, rows.officers) for r in rows.requests if r["committed"]],
        "withdrawals": [withdrawal_entry(w) for w in rows.withdrawals],
    }


def first_request(rows: IncidentRows) -> tuple[datetime, dict[str, Any]]:
    """When and by whom the first request the reader may see was made: for an agency asked,
    its own. An activity report asks nobody; it gives when and by whom it was opened."""
    if not rows.requests:
        return rows.incident["opened_at"], rows.incident["opened_by"]
    first = rows.requests[0]  # in request order
    return first["requested_at"], first["requested_by"]


def requestor(actor: dict[str, Any], departments: Departments) -> dict[str, Any]:
    agency = actor["agency"]
    return {**actor, "department": agency, "department_name": departments.get(agency)}


def decision_basis(request: Row) -> dict[str, Any]:
    return {
        "request_number": request["number"],
        "agency": request["agency"],
        "facts_for_request": request["facts"],
        "facts_for_response": request["response_facts"],
    }


def response_made(request: Row, departments: Departments) -> dict[str, Any]:
    return {
        "request_number": request["number"],
        "agency": request["agency"],
        "status": request["status"],
        "requested": request["resources"],
        "requested_at": request["requested_at"],
        "requested_by": requestor(request["requested_by"], departments),
        "committed": request["committed"] or [],
        "still_deployed": [
            {"resource": r, "quantity": q} for r, q in sorted(request["deployed"].items())
        ],
        "approved_by": request["approved_by"],
        "responded_by": request["responded_by"],
        "officer_in_charge": request["officer_in_charge"],
    }


def policy_decisions(request: Row) -> dict[str, Any]:
    """Which rule allowed each step, and any exception taken with its justification."""
    return {
        "request_number": request["number"],
        "agency": request["agency"],
        "requested_under": request["requested_under"],
        "approved_under": request["approved_under"],
        "responded_under": request["responded_under"],
        "exceptions": [
            e for e in (request["request_exception"], request["response_exception"]) if e
        ],
    }


def obligation_entry(obligation: Row) -> dict[str, Any]:
    return {
        "number": obligation["number"],
        "party": obligation["party"],
        "kind": obligation["kind"],
        "recipients": obligation["recipients"],
        "outstanding": obligation["outstanding"],
        "status": obligation["status"],
        "rule": obligation["rule"],
        "request_number": obligation["request_number"],
        "created_at": obligation["created_at"],
        "met_at": obligation["met_at"],
        "fulfilments": obligation["fulfilments"],
    }


def officer_entry(officer: Row, departments: Departments) -> dict[str, Any]:
    return {
        "request_number": officer["number"],
        "name": officer["name"],
        "badge": officer["badge"],
        "rank": officer["rank"],
        "department": officer["agency"],
        "department_name": departments.get(officer["agency"]),
        "status": officer["status"],
        "involvement": officer["involvement"],
    }


def names_given(request: Row, officers: Sequence[Row]) -> dict[str, Any]:
    """Resource kinds are free text and do not tell officers from equipment, so the lines
    committed are given as they are, beside the number of officers sent who were named; the
    committed units beyond that number are counted as not named."""
    named = sum(o["number"] == request["number"] and o["status"] != IN_CHARGE for o in officers)
    units = sum(line["quantity"] for line in request["committed"])
    return {
        "request_number": request["number"],
        "agency": request["agency"],
        "committed": request["committed"],
        "officers_named": named,
        "units_not_named": max(units - named, 0),
    }


def withdrawal_entry(withdrawal: Row) -> dict[str, Any]:
    return {
        "request_number": withdrawal["number"],
        "kind": withdrawal["kind"],
        "resources": withdrawal["resources"],
        "badges": withdrawal["badges"],
        "reason": withdrawal["reason"],
        "by": withdrawal["actor"],
        "occurred_at": withdrawal["occurred_at"],
    }
