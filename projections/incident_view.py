"""The incident read model: one small handler per event type, each writing its rows.

Handlers run inside the runner's transaction, together with the tracking position, so each
event is applied exactly once. They hold no rules: the aggregate already checked everything.
"""

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from domain.corrections import Correctable
from domain.incident import Incident
from domain.values import Obligation, ResourceLine, Withdrawal, totals
from projections.tables import (
    assistance_requests,
    incidents,
    obligations,
    officers,
    parties,
    withdrawals,
)

Handler = Callable[[Connection, Any], None]


def apply_all(conn: Connection, batch: Sequence[tuple[Any, int]]) -> None:
    for event, position in batch:
        apply(conn, event, position)


def apply(conn: Connection, event: Any, position: int) -> None:
    HANDLERS[type(event)](conn, event)
    conn.execute(
        sa.update(incidents)
        .where(incidents.c.incident_id == event.originator_id)
        .values(version=event.originator_version, position=position)
    )


def incident_opened(conn: Connection, e: Incident.IncidentOpened) -> None:
    conn.execute(
        sa.insert(incidents).values(
            incident_id=e.originator_id,
            case_number=e.case_number,
            requesting_agency=e.actor.agency,
            nature=e.nature,
            kind=str(e.kind),
            location=e.location,
            scene_management=e.scene_management,
            status="open",
            corrections=[],
            opened_by=asdict(e.actor),
            opened_at=e.occurred_at,
            recorded_at=e.timestamp,
            version=e.originator_version,
            position=0,
        )
    )
    conn.execute(
        sa.insert(parties).values(
            agency=e.actor.agency,
            incident_id=e.originator_id,
            role="requester",
            opened_at=e.occurred_at,
        )
    )


def assistance_requested(conn: Connection, e: Incident.AssistanceRequested) -> None:
    d = e.details
    add_responder(conn, e.originator_id, d.agency)
    conn.execute(
        sa.insert(assistance_requests).values(
            incident_id=e.originator_id,
            number=e.number,
            agency=d.agency,
            status="requested",
            resources=lines_json(d.resources),
            needed_at=d.needed_at,
            location=d.location,
            report_to=d.report_to,
            staging_area=d.staging_area,
            radio_channel=d.radio_channel,
            facts=d.facts,
            requested_by=asdict(e.actor),
            requested_at=e.occurred_at,
            deployed={},
            arrestee_transport=d.arrestee_transport,
            requested_under=asdict(e.authority),
            request_exception=optional(e.exception),
        )
    )
    owe(conn, e, e.obligations)


def request_approved(conn: Connection, e: Incident.RequestApproved) -> None:
    key = request_key(e.originator_id, e.number)
    status = conn.execute(sa.select(assistance_requests.c.status).where(key)).scalar_one()
    update_request(
        conn,
        e,
        status="approved" if status == "requested" else status,
        approved_by=asdict(e.actor),
        approved_at=e.occurred_at,
        approved_under=asdict(e.authority),
    )
    c = obligations.c
    approvals = sa.and_(
        c.incident_id == e.originator_id, c.kind == "approve", c.request_number == e.number
    )
    conn.execute(
        sa.update(obligations)
        .where(approvals)
        .values(outstanding=[], status="met", met_at=e.occurred_at)
    )
    count_open_obligations(conn, e.originator_id)


def response_recorded(conn: Connection, e: Incident.ResponseRecorded) -> None:
    r = e.response
    update_request(
        conn,
        e,
        status=str(r.decision),
        decision=str(r.decision),
        committed=lines_json(r.resources),
        deployed=dict(totals(r.resources)),
        response_facts=r.facts,
        officer_in_charge=asdict(r.officer_in_charge) if r.officer_in_charge else None,
        responded_by=asdict(e.actor),
        responded_at=e.occurred_at,
        responded_under=asdict(e.authority),
        response_exception=optional(e.exception),
    )
    owe(conn, e, e.obligations)
    for officer in r.officers:
        conn.execute(
            sa.insert(officers).values(
                incident_id=e.originator_id,
                number=e.number,
                status="deployed",
                involvement=[],
                **asdict(officer),
            )
        )


def resources_recalled(conn: Connection, e: Incident.ResourcesRecalled) -> None:
    withdraw(conn, e, "recalled", e.withdrawal)


def resources_released(conn: Connection, e: Incident.ResourcesReleased) -> None:
    withdraw(conn, e, "released", e.withdrawal)


def resources_arrived(conn: Connection, e: Incident.ResourcesArrived) -> None:
    update_request(conn, e, arrived_at=e.occurred_at)


def request_cancelled(conn: Connection, e: Incident.RequestCancelled) -> None:
    update_request(conn, e, status="cancelled", cancel_reason=e.reason)


def involvement_recorded(conn: Connection, e: Incident.InvolvementRecorded) -> None:
    key = officer_key(e.originator_id, e.number, e.badge)
    notes = conn.execute(sa.select(officers.c.involvement).where(key)).scalar_one()
    note = {
        "involvement": e.involvement,
        "observations": e.observations,
        "recorded_by": asdict(e.actor),
        "occurred_at": e.occurred_at.isoformat(),
    }
    conn.execute(sa.update(officers).where(key).values(involvement=[*notes, note]))


def activity_reported(conn: Connection, e: Incident.ActivityOutsideJurisdictionReported) -> None:
    owe(conn, e, e.obligations)


def obligation_fulfilled(conn: Connection, e: Incident.ObligationFulfilled) -> None:
    c = obligations.c
    key = sa.and_(c.incident_id == e.originator_id, c.number == e.number)
    row = conn.execute(sa.select(c.outstanding, c.fulfilments).where(key)).one()
    outstanding = [r for r in row.outstanding if r not in e.recipients]
    fulfilment = {
        "recipients": list(e.recipients),
        "note": e.note,
        "by": asdict(e.actor),
        "occurred_at": e.occurred_at.isoformat(),
    }
    conn.execute(
        sa.update(obligations)
        .where(key)
        .values(
            outstanding=outstanding,
            fulfilments=[*row.fulfilments, fulfilment],
            status="open" if outstanding else "met",
            met_at=None if outstanding else e.occurred_at,
        )
    )
    count_open_obligations(conn, e.originator_id)


CORRECTED_COLUMNS = {
    Correctable.NATURE: incidents.c.nature,
    Correctable.LOCATION: incidents.c.location,
    Correctable.OUTCOME: incidents.c.outcome,
    Correctable.REQUEST_FACTS: assistance_requests.c.facts,
    Correctable.REQUEST_LOCATION: assistance_requests.c.location,
    Correctable.REPORT_TO: assistance_requests.c.report_to,
    Correctable.STAGING_AREA: assistance_requests.c.staging_area,
    Correctable.RADIO_CHANNEL: assistance_requests.c.radio_channel,
    Correctable.RESPONSE_FACTS: assistance_requests.c.response_facts,
}


def fact_corrected(conn: Connection, e: Incident.FactCorrected) -> None:
    """The corrected value replaces the old one in the read model; the old one is kept in
    the incident's list of corrections, so reports can say what was corrected."""
    column = CORRECTED_COLUMNS[Correctable(e.fact)]
    table = column.table
    key = (
        incidents.c.incident_id == e.originator_id
        if table is incidents
        else request_key(e.originator_id, e.number or 0)
    )
    original = conn.execute(sa.select(column).where(key)).scalar_one()
    conn.execute(sa.update(table).where(key).values({column.name: e.value}))
    listed = incidents.c.incident_id == e.originator_id
    done = conn.execute(sa.select(incidents.c.corrections).where(listed)).scalar_one()
    correction = {
        "fact": e.fact,
        "request_number": e.number,
        "original": original,
        "corrected": e.value,
        "reason": e.reason,
        "by": asdict(e.actor),
        "occurred_at": e.occurred_at.isoformat(),
    }
    conn.execute(sa.update(incidents).where(listed).values(corrections=[*done, correction]))


def incident_closed(conn: Connection, e: Incident.IncidentClosed) -> None:
    conn.execute(
        sa.update(incidents)
        .where(incidents.c.incident_id == e.originator_id)
        .values(
            status="closed",
            outcome=e.outcome,
            closed_by=asdict(e.actor),
            closed_at=e.occurred_at,
        )
    )


def add_responder(conn: Connection, incident_id: Any, agency: str) -> None:
    """Once per agency: one asked again (after declining) is already a party."""
    p = parties.c
    known = sa.select(p.agency).where(p.agency == agency, p.incident_id == incident_id)
    if conn.execute(known).first() is None:
        opened = sa.select(incidents.c.opened_at).where(incidents.c.incident_id == incident_id)
        conn.execute(
            sa.insert(parties).values(
                agency=agency,
                incident_id=incident_id,
                role="responder",
                opened_at=conn.execute(opened).scalar_one(),
            )
        )


HANDLERS: dict[type[Any], Handler] = {
    Incident.IncidentOpened: incident_opened,
    Incident.AssistanceRequested: assistance_requested,
    Incident.RequestApproved: request_approved,
    Incident.ResponseRecorded: response_recorded,
    Incident.ResourcesRecalled: resources_recalled,
    Incident.ResourcesReleased: resources_released,
    Incident.ResourcesArrived: resources_arrived,
    Incident.RequestCancelled: request_cancelled,
    Incident.InvolvementRecorded: involvement_recorded,
    Incident.ActivityOutsideJurisdictionReported: activity_reported,
    Incident.ObligationFulfilled: obligation_fulfilled,
    Incident.FactCorrected: fact_corrected,
    Incident.IncidentClosed: incident_closed,
}


def withdraw(conn: Connection, e: Any, kind: str, withdrawal: Withdrawal) -> None:
    conn.execute(
        sa.insert(withdrawals).values(
            incident_id=e.originator_id,
            version=e.originator_version,
            number=e.number,
            kind=kind,
            resources=lines_json(withdrawal.resources),
            badges=list(withdrawal.badges),
            reason=withdrawal.reason,
            actor=asdict(e.actor),
            occurred_at=e.occurred_at,
        )
    )
    key = request_key(e.originator_id, e.number)
    deployed = Counter(
        conn.execute(sa.select(assistance_requests.c.deployed).where(key)).scalar_one()
    )
    deployed.subtract(totals(withdrawal.resources))
    update_request(conn, e, deployed={r: q for r, q in deployed.items() if q > 0})
    for badge in withdrawal.badges:
        key = officer_key(e.originator_id, e.number, badge)
        conn.execute(sa.update(officers).where(key).values(status=kind))


def owe(conn: Connection, e: Any, owed: Iterable[Obligation]) -> None:
    for o in owed:
        conn.execute(
            sa.insert(obligations).values(
                incident_id=e.originator_id,
                number=o.number,
                party=o.party,
                kind=str(o.kind),
                recipients=list(o.recipients),
                outstanding=list(o.recipients),
                rule=asdict(o.rule),
                request_number=o.request_number,
                status="open",
                created_at=e.occurred_at,
                fulfilments=[],
            )
        )
    count_open_obligations(conn, e.originator_id)


def count_open_obligations(conn: Connection, incident_id: Any) -> None:
    c = obligations.c
    still_open = sa.select(sa.func.count()).where(c.incident_id == incident_id, c.status == "open")
    conn.execute(
        sa.update(incidents)
        .where(incidents.c.incident_id == incident_id)
        .values(open_obligations=still_open.scalar_subquery())
    )


def optional(value: Any) -> dict[str, Any] | None:
    return asdict(value) if value is not None else None


def update_request(conn: Connection, e: Any, **values: Any) -> None:
    conn.execute(
        sa.update(assistance_requests)
        .where(request_key(e.originator_id, e.number))
        .values(**values)
    )


def request_key(incident_id: Any, number: int) -> sa.ColumnElement[bool]:
    c = assistance_requests.c
    return sa.and_(c.incident_id == incident_id, c.number == number)


def officer_key(incident_id: Any, number: int, badge: str) -> sa.ColumnElement[bool]:
    c = officers.c
    return sa.and_(c.incident_id == incident_id, c.number == number, c.badge == badge)


def lines_json(lines: Iterable[ResourceLine]) -> list[dict[str, Any]]:
    return [asdict(line) for line in lines]
