"""The status board: open incidents, who is deployed where, what is owed, and aid given and
received per month, for one agency."""

from collections import Counter, defaultdict
from datetime import UTC, datetime, tzinfo
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from projections.queries import IncidentFilter, concerns_obligation, list_incidents, visible_to
from projections.tables import Stamp, assistance_requests, incidents, obligations

COMMITTED = ("accepted", "partially_accepted")
# The board lists the newest open incidents; their count and the totals cover all of them.
LISTED = 200

# Built once, with the agency as a parameter. Both walk the open incidents (the status index)
# and probe by key, so their cost follows how many are open, not how long the log is.
OPEN_INCIDENTS = (
    sa.select(sa.func.count())
    .select_from(incidents)
    .where(incidents.c.status == "open", visible_to(sa.bindparam("agency")))
)


def deployed_query() -> sa.Select[Any]:
    """What is deployed on the open incidents (a JSON object per request), summed per agency
    and resource. As on every read, an agency asked sees only its own requests."""
    i, r = incidents.c, assistance_requests.c
    entry = sa.func.json_each(r.deployed).table_valued("key", "value", name="entry")
    # PostgreSQL's json_each gives json values, SQLite's numbers: text reads the same in both.
    quantity = sa.cast(sa.cast(entry.c.value, sa.Text), sa.Integer)
    agency = sa.bindparam("agency", type_=sa.String())
    return (
        sa.select(r.agency, entry.c.key, sa.func.sum(quantity))
        .select_from(incidents)
        .join(assistance_requests, r.incident_id == i.incident_id)
        .join(entry, sa.true())
        .where(i.status == "open", sa.or_(i.requesting_agency == agency, r.agency == agency))
        .group_by(r.agency, entry.c.key)
        .order_by(r.agency, entry.c.key)
    )


DEPLOYED = deployed_query()


def aid_query() -> sa.CompoundSelect[Any]:
    """The agency's requests answered with help since ``start``, given and received. Two
    selects, each down its index by agency and time, so the cost follows the window, not the
    log: for one OR of the two, PostgreSQL may take a side through the plain agency index,
    that is through the agency's whole history."""
    r = assistance_requests.c
    agency = sa.bindparam("agency", type_=sa.String())
    start = sa.bindparam("start", type_=Stamp())
    sides = {"given": r.agency, "received": r.requesting_agency}
    return sa.union_all(
        *(
            sa.select(r.requested_at, sa.literal(side).label("side")).where(
                party == agency, r.requested_at >= start, r.status.in_(COMMITTED)
            )
            for side, party in sides.items()
        )
    )


AID = aid_query()


def window_start(now: datetime, zone: tzinfo, months: int) -> datetime:
    """The first instant of a window of ``months`` months that ends with ``now``'s month, in
    ``zone``'s calendar, as a UTC time."""
    local = now.astimezone(zone)
    first = local.year * 12 + local.month - months  # zero-based, in months since January of year 0
    # Where midnight is skipped (a clock moved forward at it), this is the instant the day
    # starts; where it repeats, its first occurrence.
    return datetime(first // 12, first % 12 + 1, 1, tzinfo=zone).astimezone(UTC)


def board(conn: Connection, agency: str, zone: tzinfo, since: datetime) -> dict[str, Any]:
    open_rows = list_incidents(conn, agency, IncidentFilter(status="open"), limit=LISTED)
    requested = {row["incident_id"]: row["requesting_agency"] == agency for row in open_rows}
    r = assistance_requests.c
    requests = (
        conn.execute(
            sa.select(assistance_requests).where(r.incident_id.in_(requested)).order_by(r.number)
        )
        .mappings()
        .all()
    )
    # As on every read: on an incident it was asked on, an agency sees only its own requests.
    requests = [q for q in requests if requested[q["incident_id"]] or q["agency"] == agency]
    o = obligations.c
    still_open = sa.select(obligations).where(o.incident_id.in_(requested), o.status == "open")
    open_by_incident: dict[Any, list[Any]] = defaultdict(list)
    for obligation in conn.execute(still_open).mappings():
        open_by_incident[obligation["incident_id"]].append(obligation)
    by_incident: dict[Any, list[dict[str, Any]]] = defaultdict(list)
    for request in requests:
        by_incident[request["incident_id"]].append(
            {
                "number": request["number"],
                "agency": request["agency"],
                "status": request["status"],
                "deployed": request["deployed"],
            }
        )
    return {
        "open_incident_count": conn.execute(OPEN_INCIDENTS, {"agency": agency}).scalar_one(),
        "open_incidents": [
            {
                **{
                    k: row[k]
                    for k in (
                        "incident_id",
                        "case_number",
                        "nature",
                        "requesting_agency",
                        "opened_at",
                    )
                },
                "open_obligations": sum(
                    concerns_obligation(
                        obligation,
                        agency,
                        row["requesting_agency"],
                        numbers_of(agency, by_incident, row),
                    )
                    for obligation in open_by_incident[row["incident_id"]]
                ),
                "requests": by_incident[row["incident_id"]],
            }
            for row in open_rows
        ],
        "deployed_by_agency": deployed_by_agency(conn, agency),
        "open_obligations": owed(conn, agency),
        "monthly": monthly(conn, agency, zone, since),
    }


def deployed_by_agency(conn: Connection, agency: str) -> dict[str, dict[str, int]]:
    totals: dict[str, dict[str, int]] = defaultdict(dict)
    for deployed_by, resource, quantity in conn.execute(DEPLOYED, {"agency": agency}):
        totals[deployed_by][resource] = quantity
    return dict(totals)


def numbers_of(agency: str, by_incident: dict[Any, list[dict[str, Any]]], row: Any) -> set[int]:
    """The numbers of the requests made to ``agency`` on the incident of ``row``."""
    return {q["number"] for q in by_incident[row["incident_id"]] if q["agency"] == agency}


def owed(conn: Connection, agency: str) -> list[dict[str, Any]]:
    o = obligations.c
    query = (
        sa.select(obligations, incidents.c.case_number)
        .join(incidents, o.incident_id == incidents.c.incident_id)
        .where(o.status == "open", o.party == agency, visible_to(agency))
        .order_by(o.created_at)
    )
    return [
        {
            "case_number": row["case_number"],
            "number": row["number"],
            "kind": row["kind"],
            "outstanding": row["outstanding"],
            "section": row["rule"]["section"],
            "created_at": row["created_at"],
        }
        for row in conn.execute(query).mappings()
    ]


def monthly(conn: Connection, agency: str, zone: tzinfo, since: datetime) -> list[dict[str, Any]]:
    """Requests answered with help since ``since``, given by this agency or received by it,
    per month of ``zone``'s calendar, oldest first. A month without any is left out."""
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for requested_at, side in conn.execute(AID, {"agency": agency, "start": since}):
        counts[requested_at.astimezone(zone).strftime("%Y-%m")][side] += 1
    return [
        {"month": m, "given": c["given"], "received": c["received"]}
        for m, c in sorted(counts.items())
    ]
