"""The incident read model: one small handler per event type, each changing its rows.

A batch of events is applied in memory to the rows of the incidents it touches (held from
earlier batches, see IncidentView, or loaded with one query per table); then each new or
changed row is written once, with one prepared statement per table and kind of write. So an
event costs a few dictionary updates, not several SQL statements, and an officer's hundredth
note in a batch does not rewrite the first ninety-nine. The writes run inside the runner's
transaction, together with the tracking position, so each event is applied exactly once.
Handlers hold no rules: the aggregate already checked everything.
"""

from collections import Counter, OrderedDict, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import is_dataclass
from datetime import datetime
from functools import cache, partial
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from domain.corrections import Correctable
from domain.incident import Incident
from domain.values import Obligation, Officer, ResourceLine, Withdrawal, totals
from projections.runner import Committed
from projections.tables import (
    IN_CHARGE,
    assistance_requests,
    incidents,
    obligations,
    officers,
    parties,
    withdrawals,
)

Row = dict[str, Any]
Key = tuple[Any, ...]
Batch = Sequence[tuple[Any, int]]  # (event, log position) pairs in log order
Held = dict[str, dict[Key, Row]]  # one incident's rows, by table name and primary key


class TableRows:
    """One table's rows for a batch, by primary key: those loaded, those added, and those
    changed with the columns changed (in the order events touched them). A changed row is
    written with only its changed columns: an event that moves an incident's version does not
    encode its lists again."""

    def __init__(self, table: sa.Table, stored: Iterable[Row] = ()) -> None:
        self.table = table
        self._columns = [c.name for c in table.columns]
        self._column_set = frozenset(self._columns)
        self._key_columns = [c.name for c in table.primary_key]
        self._rows: dict[Key, Row] = {}
        self._by_incident: dict[UUID, dict[Key, Row]] = defaultdict(dict)
        self._added: dict[Key, None] = {}
        self._changed: dict[Key, set[str]] = {}
        for row in stored:
            self._keep(row)

    def __getitem__(self, key: Key) -> Row:
        return self._rows[key]

    def of(self, incident_id: UUID) -> dict[Key, Row]:
        return self._by_incident[incident_id]

    def add(self, **values: Any) -> None:
        unknown = values.keys() - self._column_set
        if unknown:
            raise ValueError(f"not columns of {self.table.name}: {sorted(unknown)}")
        self._added[self._keep({c: values.get(c) for c in self._columns})] = None

    def change(self, *key: Any, **values: Any) -> Row:
        row = self[key]
        row.update(values)
        if values and key not in self._added:
            self._changed.setdefault(key, set()).update(values)
        return row

    def touched(self) -> Iterable[Key]:
        return [*self._added, *self._changed]

    def write(self, conn: Connection) -> None:
        if self._added:
            conn.execute(self.table.insert(), [self._rows[k] for k in self._added])
        by_columns: dict[frozenset[str], list[Row]] = defaultdict(list)
        for key, columns in self._changed.items():
            by_columns[frozenset(columns)].append(self._update_params(key, columns))
        for params in by_columns.values():
            conn.execute(_update_by_key(self.table), params)

    def _keep(self, row: Row) -> Key:
        key = tuple(row[name] for name in self._key_columns)
        self._rows[key] = row
        self._by_incident[row["incident_id"]][key] = row
        return key

    def _update_params(self, key: Key, columns: set[str]) -> Row:
        row = self._rows[key]
        return {
            **{f"key_{name}": value for name, value in zip(self._key_columns, key, strict=True)},
            **{name: row[name] for name in columns},
        }


@cache
def _select_of_incidents(table: sa.Table) -> sa.Select[Any]:
    """SELECT * FROM table WHERE incident_id IN :ids, built once per table."""
    ids: sa.BindParameter[list[UUID]] = sa.bindparam("ids", expanding=True)
    return sa.select(table).where(table.c.incident_id.in_(ids))


@cache
def _update_by_key(table: sa.Table) -> sa.Update:
    """UPDATE table SET <the columns given> WHERE <primary key>, built once per table."""
    return sa.update(table).where(*(c == sa.bindparam(f"key_{c.name}") for c in table.primary_key))


class Rows:
    """The read-model rows of the incidents one batch touches: copies of those held in
    memory, none for an incident the batch opens, and the rest read with one query per table.
    """

    def __init__(self, conn: Connection, batch: Batch, held: Mapping[UUID, Held]) -> None:
        self._incident_ids = {event.originator_id for event, _ in batch}
        opened = {event.originator_id for event, _ in batch if event.originator_version == 1}
        # (Not set operations with held.keys(): they would hash every held UUID, in Python.)
        known = [held[i] for i in self._incident_ids if i in held]
        unknown = [i for i in self._incident_ids if i not in held and i not in opened]

        def stored(table: sa.Table) -> list[Row]:
            copies = [dict(row) for rows in known for row in rows[table.name].values()]
            if unknown:
                select = _select_of_incidents(table)
                copies += map(dict, conn.execute(select, {"ids": unknown}).mappings())
            return copies

        self.incidents = TableRows(incidents, stored(incidents))
        self.requests = TableRows(assistance_requests, stored(assistance_requests))
        self.officers = TableRows(officers, stored(officers))
        self.obligations = TableRows(obligations, stored(obligations))
        # Written only, never read back by a handler.
        self.withdrawals = TableRows(withdrawals)
        self.parties = TableRows(parties)

    def held(self) -> dict[UUID, Held]:
        """Each of the batch's incidents' rows of the tables handlers read back."""
        read_back = (self.incidents, self.requests, self.officers, self.obligations)
        return {
            incident_id: {rows.table.name: rows.of(incident_id) for rows in read_back}
            for incident_id in self._incident_ids
        }

    def write(self, conn: Connection) -> None:
        self._count_open_obligations()
        for table in (
            self.incidents,
            self.requests,
            self.officers,
            self.obligations,
            self.withdrawals,
            self.parties,
        ):
            table.write(conn)

    def _count_open_obligations(self) -> None:
        for incident_id in {incident_id for incident_id, _ in self.obligations.touched()}:
            owed = self.obligations.of(incident_id).values()
            still_open = sum(1 for o in owed if o["status"] == "open")
            self.incidents.change(incident_id, open_obligations=still_open)


Handler = Callable[[Rows, Any], None]


def apply_all(conn: Connection, batch: Batch, held: Mapping[UUID, Held] | None = None) -> Rows:
    rows = Rows(conn, batch, held or {})
    for event, position in batch:
        HANDLERS[type(event)](rows, event)
        rows.incidents.change(
            event.originator_id, version=event.originator_version, position=position
        )
    rows.write(conn)
    return rows


class IncidentView:
    """The projection as the runner feeds it: ``apply_all`` with the rows of the incidents
    it wrote lately kept in memory (at most ``capacity``, the least recently touched dropped
    first), so that an incident receiving an event in batch after batch is not read back from
    the database each time.

    What is held is the stored rows as of a tracking position. A batch's rows are held only
    once the runner has committed it (the function a call returns), and trusted only by a
    batch that starts where it ended. A batch that starts anywhere else (another process or
    a rebuild moved the position) finds nothing held; one that fails is never held, and
    none reads rows before the runner has claimed its position. Batches work on copies, so
    a rollback leaves what is held untouched.
    """

    def __init__(self, capacity: int = 1000) -> None:
        self._capacity = capacity
        self._held: OrderedDict[UUID, Held] = OrderedDict()
        self._held_at: int | None = None

    def __call__(self, conn: Connection, batch: Batch, after: int) -> Committed | None:
        if not batch:
            return None
        if after != self._held_at:
            self._held.clear()
        written = apply_all(conn, batch, self._held).held()
        return partial(self._hold, written, batch[-1][1])

    def _hold(self, written: dict[UUID, Held], position: int) -> None:
        """The batch ending at ``position`` is committed: its rows are the stored ones."""
        for incident_id, rows in written.items():
            self._held[incident_id] = rows
            self._held.move_to_end(incident_id)
        while len(self._held) > self._capacity:
            self._held.popitem(last=False)
        self._held_at = position


def incident_opened(rows: Rows, e: Incident.IncidentOpened) -> None:
    rows.incidents.add(
        incident_id=e.originator_id,
        case_number=e.case_number,
        requesting_agency=e.actor.agency,
        nature=e.nature,
        kind=str(e.kind),
        location=e.location,
        scene_management=e.scene_management,
        status="open",
        open_obligations=0,
        corrections=[],
        opened_by=plain(e.actor),
        opened_at=e.occurred_at,
        recorded_at=e.timestamp,
        version=e.originator_version,
        position=0,
    )
    rows.parties.add(
        agency=e.actor.agency,
        incident_id=e.originator_id,
        role="requester",
        opened_at=e.occurred_at,
    )


def assistance_requested(rows: Rows, e: Incident.AssistanceRequested) -> None:
    d = e.details
    add_responder(rows, e.originator_id, d.agency)
    rows.requests.add(
        incident_id=e.originator_id,
        number=e.number,
        agency=d.agency,
        requesting_agency=rows.incidents[(e.originator_id,)]["requesting_agency"],
        status="requested",
        resources=lines_json(d.resources),
        needed_at=d.needed_at,
        location=d.location,
        report_to=d.report_to,
        staging_area=d.staging_area,
        radio_channel=d.radio_channel,
        facts=d.facts,
        requested_by=plain(e.actor),
        requested_at=e.occurred_at,
        deployed={},
        arrestee_transport=d.arrestee_transport,
        requested_under=plain(e.authority),
        request_exception=optional(e.exception),
    )
    owe(rows, e, e.obligations)


def request_approved(rows: Rows, e: Incident.RequestApproved) -> None:
    status = rows.requests[e.originator_id, e.number]["status"]
    rows.requests.change(
        e.originator_id,
        e.number,
        status="approved" if status == "requested" else status,
        approved_by=plain(e.actor),
        approved_at=e.occurred_at,
        approved_under=plain(e.authority),
    )
    for key, o in rows.obligations.of(e.originator_id).items():
        if (o["kind"], o["request_number"]) == ("approve", e.number):
            rows.obligations.change(*key, outstanding=[], status="met", met_at=e.occurred_at)


def response_recorded(rows: Rows, e: Incident.ResponseRecorded) -> None:
    r = e.response
    rows.requests.change(
        e.originator_id,
        e.number,
        status=str(r.decision),
        decision=str(r.decision),
        committed=lines_json(r.resources),
        deployed=dict(totals(r.resources)),
        response_facts=r.facts,
        officer_in_charge=plain(r.officer_in_charge) if r.officer_in_charge else None,
        responded_by=plain(e.actor),
        responded_at=e.occurred_at,
        responded_under=plain(e.authority),
        response_exception=optional(e.exception),
    )
    owe(rows, e, e.obligations)
    for officer in r.officers:
        add_officer(rows, e, officer, "deployed")
    in_charge = r.officer_in_charge
    if in_charge is not None and in_charge.badge not in {o.badge for o in r.officers}:
        add_officer(rows, e, in_charge, IN_CHARGE)


def officers_named(rows: Rows, e: Incident.OfficersNamed) -> None:
    for officer in e.officers:
        add_officer(rows, e, officer, "deployed")


def add_officer(
    rows: Rows,
    e: Incident.ResponseRecorded | Incident.OfficersNamed,
    officer: Officer,
    status: str,
) -> None:
    rows.officers.add(
        incident_id=e.originator_id,
        number=e.number,
        status=status,
        involvement=[],
        **plain(officer),
    )


def resources_recalled(rows: Rows, e: Incident.ResourcesRecalled) -> None:
    withdraw(rows, e, "recalled", e.withdrawal)


def resources_released(rows: Rows, e: Incident.ResourcesReleased) -> None:
    withdraw(rows, e, "released", e.withdrawal)


def resources_arrived(rows: Rows, e: Incident.ResourcesArrived) -> None:
    rows.requests.change(e.originator_id, e.number, arrived_at=e.occurred_at)


def request_cancelled(rows: Rows, e: Incident.RequestCancelled) -> None:
    rows.requests.change(e.originator_id, e.number, status="cancelled", cancel_reason=e.reason)


def involvement_recorded(rows: Rows, e: Incident.InvolvementRecorded) -> None:
    key = (e.originator_id, e.number, e.badge)
    entry = {
        "involvement": e.involvement,
        "observations": e.observations,
        "recorded_by": plain(e.actor),
        "occurred_at": e.occurred_at.isoformat(),
    }
    rows.officers.change(*key, involvement=[*rows.officers[key]["involvement"], entry])


def activity_reported(rows: Rows, e: Incident.ActivityOutsideJurisdictionReported) -> None:
    owe(rows, e, e.obligations)


def obligation_fulfilled(rows: Rows, e: Incident.ObligationFulfilled) -> None:
    row = rows.obligations[e.originator_id, e.number]
    outstanding = [r for r in row["outstanding"] if r not in e.recipients]
    fulfilment = {
        "recipients": list(e.recipients),
        "note": e.note,
        "by": plain(e.actor),
        "occurred_at": e.occurred_at.isoformat(),
    }
    rows.obligations.change(
        e.originator_id,
        e.number,
        outstanding=outstanding,
        fulfilments=[*row["fulfilments"], fulfilment],
        status="open" if outstanding else "met",
        met_at=None if outstanding else e.occurred_at,
    )


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


def fact_corrected(rows: Rows, e: Incident.FactCorrected) -> None:
    """The corrected value replaces the old one in the read model; the old one is kept in
    the incident's list of corrections, so reports can say what was corrected."""
    column = CORRECTED_COLUMNS[Correctable(e.fact)]
    corrected, key = (
        (rows.incidents, (e.originator_id,))
        if column.table is incidents
        else (rows.requests, (e.originator_id, e.number or 0))
    )
    correction = {
        "fact": e.fact,
        "request_number": e.number,
        "original": corrected[key][column.name],
        "corrected": e.value,
        "reason": e.reason,
        "by": plain(e.actor),
        "occurred_at": e.occurred_at.isoformat(),
    }
    corrected.change(*key, **{column.name: e.value})
    corrections = rows.incidents[(e.originator_id,)]["corrections"]
    rows.incidents.change(e.originator_id, corrections=[*corrections, correction])


def incident_closed(rows: Rows, e: Incident.IncidentClosed) -> None:
    rows.incidents.change(
        e.originator_id,
        status="closed",
        outcome=e.outcome,
        closed_by=plain(e.actor),
        closed_at=e.occurred_at,
    )


def add_responder(rows: Rows, incident_id: UUID, agency: str) -> None:
    """Once per agency: one asked again (after declining) is already a party. The parties of
    an incident are its requester and the agencies of its requests, all loaded."""
    incident = rows.incidents[(incident_id,)]
    asked = (r["agency"] for r in rows.requests.of(incident_id).values())
    if agency not in (incident["requesting_agency"], *asked):
        rows.parties.add(
            agency=agency,
            incident_id=incident_id,
            role="responder",
            opened_at=incident["opened_at"],
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
    Incident.OfficersNamed: officers_named,
    Incident.InvolvementRecorded: involvement_recorded,
    Incident.ActivityOutsideJurisdictionReported: activity_reported,
    Incident.ObligationFulfilled: obligation_fulfilled,
    Incident.FactCorrected: fact_corrected,
    Incident.IncidentClosed: incident_closed,
}


def withdraw(rows: Rows, e: Any, kind: str, withdrawal: Withdrawal) -> None:
    rows.withdrawals.add(
        incident_id=e.originator_id,
        version=e.originator_version,
        number=e.number,
        kind=kind,
        resources=lines_json(withdrawal.resources),
        badges=list(withdrawal.badges),
        reason=withdrawal.reason,
        actor=plain(e.actor),
        occurred_at=e.occurred_at,
    )
    deployed: Counter[str] = Counter(rows.requests[e.originator_id, e.number]["deployed"])
    deployed.subtract(totals(withdrawal.resources))
    rows.requests.change(
        e.originator_id, e.number, deployed={r: q for r, q in deployed.items() if q > 0}
    )
    for badge in withdrawal.badges:
        rows.officers.change(e.originator_id, e.number, badge, status=kind)


def owe(rows: Rows, e: Any, owed: Iterable[Obligation]) -> None:
    for o in owed:
        rows.obligations.add(
            incident_id=e.originator_id,
            number=o.number,
            party=o.party,
            kind=str(o.kind),
            recipients=list(o.recipients),
            outstanding=list(o.recipients),
            rule=plain(o.rule),
            request_number=o.request_number,
            status="open",
            created_at=e.occurred_at,
            fulfilments=[],
        )


def optional(value: Any) -> dict[str, Any] | None:
    return plain(value) if value is not None else None


def plain(value: Any) -> Any:
    """A value object as JSON-ready data: ``dataclasses.asdict`` without its deep copies,
    which cost more than the rest of a handler. Most fields are text: they are let through
    without a call."""
    if isinstance(value, tuple):
        return [item if isinstance(item, PLAIN) else plain(item) for item in value]
    if is_dataclass(value):
        return {
            name: field if isinstance(field, PLAIN) else plain(field)
            for name, field in vars(value).items()
        }
    return value


PLAIN = (str, int, float, type(None), datetime)


def lines_json(lines: Iterable[ResourceLine]) -> list[dict[str, Any]]:
    return [plain(line) for line in lines]
