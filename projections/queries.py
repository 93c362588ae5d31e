"""Reads of the incident read model. Every query takes the caller's agency and sees only the
incidents that agency is a party to (it requested, or it was asked); None stands for an
auditor of every agency. An agency that was asked sees only what concerns it (see
domain/visibility.py for the same rule over events)."""

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from functools import cache
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping

from domain.obligations import concerns
from projections.tables import (
    Stamp,
    assistance_requests,
    incidents,
    obligations,
    officers,
    parties,
    withdrawals,
)

Row = RowMapping


@dataclass(frozen=True)
class IncidentRows:
    incident: Row | dict[str, Any]
    requests: Sequence[Row]
    officers: Sequence[Row]
    withdrawals: Sequence[Row]
    obligations: Sequence[Row]


@dataclass(frozen=True)
class IncidentFilter:
    status: str | None = None
    role: str | None = None  # "requester", "responder" or None for either
    kind: str | None = None
    opened_from: datetime | None = None
    opened_to: datetime | None = None
    open_obligations: bool | None = None
    # Only incidents with an obligation still open that was created before this time.
    overdue_before: datetime | None = None


def visible_to(agency: str | sa.BindParameter[str] | None) -> sa.ColumnElement[bool]:
    if agency is None:
        return sa.true()
    # One primary-key probe per incident: an IN over the agency's parties would first collect
    # every incident the agency was ever party to (200 ms with a million events).
    p = parties.c
    return sa.exists().where(p.agency == agency, p.incident_id == incidents.c.incident_id)


def of_incident(table: sa.Table, *order: sa.ColumnElement[Any]) -> sa.Select[Any]:
    return (
        sa.select(table).where(table.c.incident_id == sa.bindparam("incident_id")).order_by(*order)
    )


# An incident's statements are built once, with its id and the reader's agency as parameters:
# building and keying them took SQLAlchemy twice as long as running all five (SQLite).
INCIDENT_SEEN_BY = {
    scoped: of_incident(incidents).where(visible_to(sa.bindparam("agency") if scoped else None))
    for scoped in (False, True)
}
INCIDENT_PARTS = {
    "requests": of_incident(assistance_requests, assistance_requests.c.number),
    "officers": of_incident(officers, officers.c.number, officers.c.badge),
    "withdrawals": of_incident(withdrawals, withdrawals.c.version),
    "obligations": of_incident(obligations, obligations.c.number),
}


def incident_rows(conn: Connection, incident_id: UUID, agency: str | None) -> IncidentRows | None:
    params = {"incident_id": incident_id, "agency": agency}
    found = conn.execute(INCIDENT_SEEN_BY[agency is not None], params).mappings().one_or_none()
    if found is None:
        return None
    parts = {name: conn.execute(q, params).mappings().all() for name, q in INCIDENT_PARTS.items()}
    return narrowed(IncidentRows(incident=found, **parts), agency)


def narrowed(rows: IncidentRows, agency: str | None) -> IncidentRows:
    """What of the incident concerns ``agency``: all of it for the requester; for an agency
    asked, the incident itself and its own requests, officers and obligations."""
    if agency is None or agency == rows.incident["requesting_agency"]:
        return rows
    mine = {r["number"] for r in rows.requests if r["agency"] == agency}
    requester = rows.incident["requesting_agency"]
    owed = [o for o in rows.obligations if concerns_obligation(o, agency, requester, mine)]
    corrections = rows.incident["corrections"]
    return IncidentRows(
        incident={
            **rows.incident,
            "corrections": [c for c in corrections if c["request_number"] in {None, *mine}],
            "open_obligations": sum(o["status"] == "open" for o in owed),
        },
        requests=[r for r in rows.requests if r["number"] in mine],
        officers=[o for o in rows.officers if o["number"] in mine],
        withdrawals=[w for w in rows.withdrawals if w["number"] in mine],
        obligations=owed,
    )


def concerns_obligation(obligation: Row, agency: str, requester: str, mine: set[int]) -> bool:
    """``mine``: the numbers of the requests made to ``agency``."""
    asked = agency if obligation["request_number"] in mine else None
    return concerns(agency, requester, obligation["party"], asked)


def list_incidents(
    conn: Connection,
    agency: str | None,
    where: IncidentFilter,
    limit: int,
    after: tuple[datetime, UUID] | None = None,
) -> Sequence[Row]:
    """Newest first, keyset-paginated on (opened_at, incident_id) so pages stay stable while
    new incidents arrive. An agency's page walks the parties index in that order, so its cost
    does not grow with the log; an auditor of every agency walks the incidents themselves."""
    values = asdict(where)
    # open_obligations picks one of two conditions, so its value is part of the statement.
    present = frozenset(name for name, value in values.items() if value is not None)
    filters = present - {"open_obligations"}
    query = page_query(agency is not None, filters, where.open_obligations, after is not None)
    params = {**values, "agency": agency, "limit": limit}
    if after is not None:
        params["after_opened_at"], params["after_incident_id"] = after
    return conn.execute(query, params).mappings().all()


@cache
def page_query(
    scoped: bool, given: frozenset[str], open_obligations: bool | None, after: bool
) -> sa.Select[Any]:
    """The page query for one combination of filters, built once (building and keying a
    statement costs SQLAlchemy more than running it): the filters' values, the agency, the
    page's start and the limit are parameters."""
    c, p = incidents.c, parties.c
    # An agency's pages follow its parties rows, in their index's order; an auditor's, the
    # incidents themselves.
    opened_at, incident_id = (
        (p.opened_at, p.incident_id) if scoped else (c.opened_at, c.incident_id)
    )
    query = sa.select(incidents)
    if scoped:
        query = query.join(parties, p.incident_id == c.incident_id)
        query = query.where(p.agency == sa.bindparam("agency"))
        if "role" in given:
            query = query.where(p.role == sa.bindparam("role"))
    if "status" in given:
        query = query.where(c.status == sa.bindparam("status"))
    if "kind" in given:
        query = query.where(c.kind == sa.bindparam("kind"))
    if "opened_from" in given:
        query = query.where(opened_at >= sa.bindparam("opened_from"))
    if "opened_to" in given:
        query = query.where(opened_at < sa.bindparam("opened_to"))
    if open_obligations is not None:
        owing = c.open_obligations > 0
        query = query.where(owing if open_obligations else sa.not_(owing))
    if "overdue_before" in given:
        o = obligations.c
        before = sa.bindparam("overdue_before", type_=Stamp())
        overdue = sa.select(o.incident_id).where(o.status == "open", o.created_at < before)
        query = query.where(c.incident_id.in_(overdue))
    if after:
        last = (
            sa.bindparam("after_opened_at", type_=Stamp()),
            sa.bindparam("after_incident_id", type_=sa.Uuid()),
        )
        query = query.where(sa.tuple_(opened_at, incident_id) < sa.tuple_(*last))
    return query.order_by(opened_at.desc(), incident_id.desc()).limit(
        sa.bindparam("limit", type_=sa.Integer())
    )


@dataclass(frozen=True)
class StatisticsRows:
    requests: Sequence[Row]
    officers: Sequence[Row]
    withdrawn_at: dict[tuple[Any, int, str], datetime]


def statistics_rows(
    conn: Connection, agency: str, start: datetime, end: datetime
) -> StatisticsRows:
    """Requests made in [start, end) that the agency made or received (with when their
    incident closed), their officers, and when each officer was withdrawn."""
    r, i = assistance_requests.c, incidents.c
    involved = sa.or_(i.requesting_agency == agency, r.agency == agency)
    in_period = sa.and_(
        r.requested_at >= sa.literal(start, Stamp()), r.requested_at < sa.literal(end, Stamp())
    )
    joined = assistance_requests.join(incidents, r.incident_id == i.incident_id)
    query = sa.select(assistance_requests, i.requesting_agency, i.closed_at).select_from(joined)
    requests = conn.execute(query.where(involved, in_period)).mappings().all()
    keys = {(row["incident_id"], row["number"]) for row in requests}
    incident_ids = {row["incident_id"] for row in requests}
    officer_rows = (
        conn.execute(
            sa.select(officers, i.requesting_agency)
            .select_from(officers.join(incidents, officers.c.incident_id == i.incident_id))
            .where(officers.c.incident_id.in_(incident_ids))
        )
        .mappings()
        .all()
    )
    withdrawn: dict[tuple[Any, int, str], datetime] = {}
    for w in conn.execute(
        sa.select(withdrawals)
        .where(withdrawals.c.incident_id.in_(incident_ids))
        .order_by(withdrawals.c.version)
    ).mappings():
        for badge in w["badges"]:
            withdrawn.setdefault((w["incident_id"], w["number"], badge), w["occurred_at"])
    return StatisticsRows(
        requests=requests,
        officers=[o for o in officer_rows if (o["incident_id"], o["number"]) in keys],
        withdrawn_at=withdrawn,
    )
