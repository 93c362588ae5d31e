"""Issue 7, must show 2: statistics equal those computed directly from the event log, for a
generated history of 1,000 incidents."""

import random
import statistics as stats
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from fastapi import FastAPI

from api.deps import clock
from app.ledger import Context, MutualAidLedger
from domain.incident import Incident
from domain.values import (
    Actor,
    Decision,
    IncidentKind,
    Officer,
    ResourceLine,
    ResponseDetails,
    Withdrawal,
)
from tests.api.conftest import Service
from tests.scenarios import ask

T0 = datetime(2026, 6, 1, tzinfo=UTC)
AGENCIES = {
    "KPD": Actor("KPD", "Sgt. Ruiz", "sergeant", "1"),
    "PPPD": Actor("PPPD", "Sgt. Holt", "sergeant", "2"),
}
SHERIFF = Actor("KCSD", "Lt. Ortiz", "lieutenant", "3")
# Named over each detail but not among the officers sent: no officer statistic counts them.
IN_CHARGE = Officer("Lt. Ortiz", "3", "KCSD", "lieutenant")
INCIDENTS = 1_000


def generate(ledger: MutualAidLedger, rng: random.Random) -> int:
    written = None
    for n in range(INCIDENTS):
        requester = AGENCIES[rng.choice(sorted(AGENCIES))]
        at = T0 + timedelta(hours=n)

        def later(minutes: int, at: datetime = at) -> datetime:
            return at + timedelta(minutes=minutes)

        asked = rng.randint(1, 6)
        opened = ledger.open_incident(
            Context(requester, at),
            case_number=f"S-{n}",
            nature="generated",
            kind=IncidentKind.EMERGENCY,
            location="x",
            request=ask(officers=asked),
        ).result()
        incident = written = opened
        if rng.random() < 0.1:
            continue
        written = ledger.approve(
            incident.incident_id, 1, Context(requester, later(rng.randint(1, 20)))
        ).result()
        sent = rng.choice([0, asked, rng.randint(1, asked)])
        decision = (
            Decision.DECLINED
            if sent == 0
            else Decision.ACCEPTED
            if sent == asked
            else Decision.PARTIALLY_ACCEPTED
        )
        officers = tuple(Officer(f"D{k}", f"D-{k}", "KCSD") for k in range(sent))
        lines = (ResourceLine("patrol_officer", sent),) if sent else ()
        # The response names some of the officers (at least D-0, whom a recall names); the
        # rest are named after it (Kenosha IV.C.1).
        named = rng.randint(min(sent, 1), sent)
        response = ResponseDetails(
            decision, "generated", lines, officers[:named], IN_CHARGE if sent else None
        )
        sheriff = Context(SHERIFF, later(rng.randint(21, 40)))
        written = ledger.respond(incident.incident_id, 1, response, sheriff).result()
        if named < sent:
            written = ledger.name_officers(
                incident.incident_id, 1, officers[named:], sheriff
            ).result()
        if sent and rng.random() < 0.8:
            written = ledger.record_arrival(
                incident.incident_id, 1, Context(SHERIFF, later(rng.randint(41, 70)))
            ).result()
        if sent > 1 and rng.random() < 0.5:
            recall = Withdrawal((ResourceLine("patrol_officer", 1),), ("D-0",), "needed")
            written = ledger.recall(
                incident.incident_id, 1, recall, Context(SHERIFF, later(rng.randint(71, 200)))
            ).result()
        if rng.random() < 0.7:
            closing = Context(requester, later(rng.randint(201, 600)))
            written = ledger.close_incident(incident.incident_id, "done", True, closing).result()
    assert written is not None
    return written.position


def from_the_log(ledger: MutualAidLedger, agency: str, now: datetime) -> dict[str, Any]:
    """The same figures, computed straight from the events, without the read model."""
    requests: dict[tuple[Any, int], dict[str, Any]] = {}
    closed: dict[Any, datetime] = {}
    for notification in ledger.recorder.select_notifications(1, 1_000_000):
        e: Any = ledger.mapper.to_domain_event(notification)
        key = (e.originator_id, getattr(e, "number", 1))
        if isinstance(e, Incident.IncidentOpened):
            requester = e.actor.agency
        elif isinstance(e, Incident.AssistanceRequested):
            requests[key] = {
                "by": requester,
                "to": e.details.agency,
                "at": e.occurred_at,
                "out": {},
            }
        elif isinstance(e, Incident.RequestApproved):
            requests[key]["approval"] = e.occurred_at
        elif isinstance(e, Incident.ResponseRecorded):
            r = requests[key]
            r.update(response=e.occurred_at, decision=str(e.response.decision))
            r["lines"] = {line.resource: line.quantity for line in e.response.resources}
            r["officers"] = [o.badge for o in e.response.officers]
        elif isinstance(e, Incident.OfficersNamed):
            requests[key]["officers"] += [o.badge for o in e.officers]
        elif isinstance(e, Incident.ResourcesArrived):
            requests[key]["arrival"] = e.occurred_at
        elif isinstance(e, Incident.ResourcesRecalled | Incident.ResourcesReleased):
            for badge in e.withdrawal.badges:
                requests[key]["out"].setdefault(badge, e.occurred_at)
        elif isinstance(e, Incident.IncidentClosed):
            closed[e.originator_id] = e.occurred_at
    for (incident, _), r in requests.items():
        r["close"] = closed.get(incident)
    made = [r for r in requests.values() if r["by"] == agency]
    received = [r for r in requests.values() if r["to"] == agency]

    def decisions(rs: list[dict[str, Any]]) -> dict[str, int]:
        c = Counter(r.get("decision") for r in rs)
        return {d: c[d] for d in ("accepted", "partially_accepted", "declined")}

    def resources(rs: list[dict[str, Any]]) -> dict[str, int]:
        return dict(sum((Counter(r.get("lines", {})) for r in rs), Counter()))

    def durations(name: str) -> dict[str, Any]:
        values = [(r[name] - r["at"]).total_seconds() / 60 for r in made if r.get(name)]
        if not values:
            return {"median": None, "p90": None, "count": 0}
        p90 = stats.quantiles(values, n=10, method="inclusive")[-1]
        return {
            "median": round(stats.median(values), 2),
            "p90": round(p90, 2),
            "count": len(values),
        }

    hours = (
        sum(
            (r["out"].get(badge, now) - r.get("arrival", r.get("response"))).total_seconds()
            for r in received
            for badge in r.get("officers", [])
        )
        / 3600
    )
    return {
        "requests_made": len(made),
        "requests_received": len(received),
        "decisions_on_requests_made": decisions(made),
        "decisions_on_requests_received": decisions(received),
        "officers_received": sum(len(r.get("officers", [])) for r in made),
        "officers_sent": sum(len(r.get("officers", [])) for r in received),
        "resources_received": resources(made),
        "resources_sent": resources(received),
        "officer_hours_sent": round(hours, 2),
        "minutes_from_request": {
            n: durations(n) for n in ("approval", "response", "arrival", "close")
        },
    }


def test_statistics_equal_those_computed_from_the_log(service: Service) -> None:
    ledger = service.services.ledger
    last = generate(ledger, random.Random(1000))
    period = {"start": T0.isoformat(), "end": (T0 + timedelta(days=60)).isoformat()}
    now = T0 + timedelta(days=90)  # officers still out count until now
    read_at(service, now)

    for agency in ("KPD", "PPPD", "KCSD"):
        answer = service.cad(agency).get("/v1/statistics", min_position=last, **period)
        assert answer.status_code == 200, answer.text
        found = {k: v for k, v in answer.json().items() if k not in ("agency", "start", "end")}
        assert found == from_the_log(ledger, agency, now)


def test_a_deployment_into_the_next_month_counts_whole_in_the_month_it_was_asked_in(
    service: Service,
) -> None:
    """Asked on 31 March, answered with two officers on 1 April, all released at 02:30: four
    officer-hours, all in March, none lost at the month's end (a review found them in
    neither month)."""
    ledger = service.services.ledger
    asked = datetime(2026, 3, 31, 23, 30, tzinfo=UTC)
    opened = ledger.open_incident(
        Context(AGENCIES["KPD"], asked),
        case_number="M-1",
        nature="month end",
        kind=IncidentKind.EMERGENCY,
        location="x",
        request=ask(officers=2),
    ).result()
    incident = opened.incident_id
    ledger.approve(incident, 1, Context(AGENCIES["KPD"], asked + timedelta(minutes=10))).result()
    officers = tuple(Officer(f"Deputy {n}", f"D-{n}", "KCSD") for n in range(2))
    lines = (ResourceLine("patrol_officer", 2),)
    response = ResponseDetails(Decision.ACCEPTED, "two free", lines, officers)
    ledger.respond(incident, 1, response, Context(SHERIFF, asked + timedelta(hours=1))).result()
    last = ledger.close_incident(
        incident, "done", True, Context(AGENCIES["KPD"], asked + timedelta(hours=3))
    ).result()
    read_at(service, datetime(2026, 6, 1, tzinfo=UTC))

    def sent(start: str, end: str) -> tuple[int, float]:
        period = {"start": f"{start}T00:00:00Z", "end": f"{end}T00:00:00Z"}
        found = service.cad("KCSD").get("/v1/statistics", min_position=last.position, **period)
        return found.json()["officers_sent"], found.json()["officer_hours_sent"]

    assert sent("2026-03-01", "2026-04-01") == (2, 4.0)
    assert sent("2026-04-01", "2026-05-01") == (0, 0.0)
    assert sent("2026-03-01", "2026-05-01") == (2, 4.0)


def read_at(service: Service, now: datetime) -> None:
    cast(FastAPI, service.client.app).dependency_overrides[clock] = lambda: now
