"""Mutual aid given and received by one agency over a period, from read-model rows.

A request counts in the period when it was made in it, and so does every hour of its officers:
officer-hours run from arrival (or, without one, from the response) until the officer was
recalled or released, or until now for those still out, past the period's end too. Cut at
the end, a deployment that ran into the next period was counted in neither (a review found a
month's hours lost that way); counted whole, the periods add up.
"""

from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import datetime
from statistics import median, quantiles
from typing import Any

from projections.queries import Row

# Each duration runs from the request to the time in this column of its row.
DURATIONS = {
    "approval": "approved_at",
    "response": "responded_at",
    "arrival": "arrived_at",
    "close": "closed_at",
}


def agency_statistics(
    agency: str,
    requests: Sequence[Row],
    officers: Sequence[Row],
    withdrawn_at: dict[tuple[Any, int, str], datetime],
    now: datetime,
) -> dict[str, Any]:
    made = [r for r in requests if r["requesting_agency"] == agency]
    received = [r for r in requests if r["agency"] == agency]
    return {
        "requests_made": len(made),
        "requests_received": len(received),
        "decisions_on_requests_made": decisions(made),
        "decisions_on_requests_received": decisions(received),
        "officers_received": sum(1 for o in officers if o["requesting_agency"] == agency),
        "officers_sent": sum(1 for o in officers if o["agency"] == agency),
        "resources_received": committed(made),
        "resources_sent": committed(received),
        "officer_hours_sent": officer_hours(
            [o for o in officers if o["agency"] == agency], requests, withdrawn_at, now
        ),
        "minutes_from_request": {
            name: percentiles(minutes(made, column)) for name, column in DURATIONS.items()
        },
    }


def decisions(requests: Iterable[Row]) -> dict[str, int]:
    counted = Counter(r["decision"] for r in requests if r["decision"])
    return {d: counted[d] for d in ("accepted", "partially_accepted", "declined")}


def committed(requests: Iterable[Row]) -> dict[str, int]:
    total: Counter[str] = Counter()
    for request in requests:
        for line in request["committed"] or []:
            total[line["resource"]] += line["quantity"]
    return dict(sorted(total.items()))


def officer_hours(
    sent: Iterable[Row],
    requests: Sequence[Row],
    withdrawn_at: dict[tuple[Any, int, str], datetime],
    now: datetime,
) -> float:
    by_key = {(r["incident_id"], r["number"]): r for r in requests}
    seconds = 0.0
    for officer in sent:
        request = by_key[(officer["incident_id"], officer["number"])]
        start = request["arrived_at"] or request["responded_at"]
        end = withdrawn_at.get((officer["incident_id"], officer["number"], officer["badge"]), now)
        seconds += max((end - start).total_seconds(), 0.0)
    return round(seconds / 3600, 2)


def minutes(made: Iterable[Row], column: str) -> list[float]:
    found = ((r[column], r["requested_at"]) for r in made)
    return [(end - start).total_seconds() / 60 for end, start in found if end is not None]


def percentiles(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"median": None, "p90": None, "count": 0}
    p90 = quantiles(values, n=10, method="inclusive")[-1] if len(values) > 1 else values[0]
    return {"median": round(median(values), 2), "p90": round(p90, 2), "count": len(values)}
