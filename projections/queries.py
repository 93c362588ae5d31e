"""Reads of the incident read model. Every query takes the caller's agency and sees only the
incidents that agency is a party to (it requested, or it was asked); None stands for an
auditor of every agency. An agency that was asked sees only what concerns it (see
domain/visibility.py for the same rule over events)."""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime
from functools import cache
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine, RowMapping

from domain.obligations import concerns
from projections.tables import (
    IN_CHARGE,
    Stamp,
    assistance_requests,
    incidents,
    obligations,
    officers,
    parties,
    withdrawals,
)

Row = RowMapping


@contextmanager
def snapshot(engine: Engine) -> Iterator[Connection]:
    """A connection whose statements all see the read model as of one moment. A read of
    several statements (a report's five, the statistics' three, the board's) would otherwise
    take in a projection batch committed between two of them by halves: officers whose
    request it read unanswered. PostgreSQL: a REPEATABLE READ transaction; SQLite, whose
    driver begins one only to write: BEGIN, which in WAL mode reads one snapshot."""
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn.execution_options(isolation_level="REPEATABLE READ")
        else:
            conn.exec_driver_sql("BEGIN")
        yield conn


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
    owed = obligations_owed_to(p) if scoped else c.open_obligations
    others = [column for column in incidents.c if column.name != "open_obligations"]
    query = sa.select(*others, owed.label("open_obligations"))
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
        owing = owed > 0
        query = query.where(owing if open_obligations else sa.not_(owing))
    if "overdue_before" in given:
        o = obligations.c
        before = sa.bindparam("overdue_before", type_=Stamp())
        overdue = sa.exists().where(
            o.incident_id == c.incident_id, o.status == "open", o.created_at < before
        )
        query = query.where(overdue.where(concerning(p)) if scoped else overdue)
    if after:
        last = (
            sa.bindparam("after_opened_at", type_=Stamp()),
            sa.bindparam("after_incident_id", type_=sa.Uuid()),
        )
        query = query.where(sa.tuple_(opened_at, incident_id) < sa.tuple_(*last))
    return query.order_by(opened_at.desc(), incident_id.desc()).limit(
        sa.bindparam("limit", type_=sa.Integer())
    )


def obligations_owed_to(p: Any) -> sa.ColumnElement[int]:
    """The open obligations of the incident that concern the party row ``p`` (as narrowed
    does): the incident's own count for its requester, a count of its own for an agency asked
    (a review found the list telling an agency asked of obligations on other agencies'
    requests, in the count and through the obligation filters)."""
    o = obligations.c
    own = (
        sa.select(sa.func.count())
        .where(o.incident_id == p.incident_id, o.status == "open", concerning(p))
        .scalar_subquery()
    )
    return sa.case((p.role == "requester", incidents.c.open_obligations), else_=own)


def concerning(p: Any) -> sa.ColumnElement[bool]:
    """An obligation (of the enclosing query) concerns the party row ``p``: see concerns()."""
    o, r = obligations.c, assistance_requests.c
    asked = (
        sa.exists()
        .where(r.incident_id == o.incident_id, r.number == o.request_number, r.agency == p.agency)
        .correlate_except(assistance_requests)  # the party row is the outermost query's
    )
    return sa.or_(p.role == "requester", o.party == p.agency, asked)


@dataclass(frozen=True)
class StatisticsRows:
    requests: Sequence[Row]
    officers: Sequence[Row]
    withdrawn_at: dict[tuple[Any, int, str], datetime]


def in_period(query: sa.Select[Any]) -> sa.CompoundSelect[Any]:
    """``query``, which reads assistance_requests, for the requests made in [start, end) that
    ``agency`` received, then for those it made: two selects, each down its index by agency
    and time from the period's start, so the cost follows the period, not the log (under one
    OR of the two, PostgreSQL walks an index on time alone, every agency's history). The
    second leaves out requests to the agency itself: the domain refuses them, and a UNION ALL,
    unlike the OR, would read one twice."""
    r = assistance_requests.c
    agency = sa.bindparam("agency", type_=sa.String())
    made_in_period = sa.and_(
        r.requested_at >= sa.bindparam("start", type_=Stamp()),
        r.requested_at < sa.bindparam("end", type_=Stamp()),
    )
    return sa.union_all(
        query.where(r.agency == agency, made_in_period),
        query.where(r.requesting_agency == agency, r.agency != agency, made_in_period),
    )


def of_requests(table: sa.Table) -> sa.Select[Any]:
    """The rows of ``table`` that belong to a request, each found by its request's key."""
    r = assistance_requests.c
    request = sa.and_(table.c.incident_id == r.incident_id, table.c.number == r.number)
    return sa.select(table).join(assistance_requests, request)


# The statistics' reads, built once: the agency and the period are parameters.
STATISTICS_REQUESTS = in_period(
    sa.select(assistance_requests, incidents.c.closed_at).join(
        incidents, incidents.c.incident_id == assistance_requests.c.incident_id
    )
)
# Officers sent: an officer in charge not among them is never withdrawn, and would count
# hours to the end of the period.
STATISTICS_OFFICERS = in_period(
    of_requests(officers)
    .add_columns(assistance_requests.c.requesting_agency)
    .where(officers.c.status != IN_CHARGE)
)
STATISTICS_WITHDRAWALS = in_period(of_requests(withdrawals)).order_by(withdrawals.c.version)


def statistics_rows(
    conn: Connection, agency: str, start: datetime, end: datetime
) -> StatisticsRows:
    """Requests made in [start, end) that the agency made or received (with when their
    incident closed), the officers they sent, and when each officer was withdrawn."""
    period = {"agency": agency, "start": start, "end": end}
    requests = conn.execute(STATISTICS_REQUESTS, period).mappings().all()
    keys = {(row["incident_id"], row["number"]) for row in requests}
    officer_rows = conn.execute(STATISTICS_OFFICERS, period).mappings().all()
    withdrawn: dict[tuple[Any, int, str], datetime] = {}
    for w in conn.execute(STATISTICS_WITHDRAWALS, period).mappings():
        for badge in w["badges"]:
            withdrawn.setdefault((w["incident_id"], w["number"], badge), w["occurred_at"])
    return StatisticsRows(
        requests=requests,
        # Read after the requests: not the officers of a request made in between.
        officers=[o for o in officer_rows if (o["incident_id"], o["number"]) in keys],
        withdrawn_at=withdrawn,
    )
