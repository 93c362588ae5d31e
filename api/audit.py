"""Audit: history, the incident as of any moment, verification and signed checkpoints.
These read the event log itself, on purpose: an auditor must not have to trust a projection."""

from dataclasses import asdict
from datetime import datetime, timedelta
from html import escape
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, StreamingResponse
from pydantic_core import to_jsonable_python
from sqlalchemy.exc import NoResultFound

from api.deps import (
    MAX_POSITION,
    Auditor,
    DepartmentNames,
    Ledger,
    ServicesDep,
    StateAuditor,
    check_written,
)
from api.problems import ApiProblem, problem_responses
from api.schemas.commands import Moment
from api.schemas.reads import (
    AsOf,
    CheckpointOut,
    FullReport,
    History,
    HistoryEntry,
    IncidentRead,
    IncidentVerdictOut,
    LogVerdictOut,
    SummaryReport,
    VerdictOut,
)
from app.audit import public_key_of
from app.audit_store import load_checkpoints, make_checkpoint, verify_store, verify_stored_incident
from app.bundle import bundle_lines
from app.principals import Principal
from projections import reports
from projections.narration import describe
from projections.time_travel import rows_as_of

ERRORS = problem_responses(400, 403, 404, 422)
router = APIRouter(prefix="/v1", tags=["audit"], responses=ERRORS)
EVENT_FIELDS = {"originator_id", "originator_version", "timestamp", "originator_topic"}
# A claim recorded this much after the moment it happened is marked as a late entry.
LATE = timedelta(minutes=5)
BUNDLE_TYPE = "application/jsonl"


@router.get("/incidents/{incident_id}/history")
def history(
    incident_id: UUID,
    auditor: Auditor,
    ledger: Ledger,
    offset: Annotated[int, Query(ge=0, le=MAX_POSITION)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> History:
    """Every event the auditor's agency may see, in order, with its log position and a
    plain-language line."""
    events = visible_history(ledger, incident_id, auditor)
    page = [entry(e, p) for e, p in events[offset : offset + limit]]
    return History(incident_id=incident_id, total=len(events), events=page)


@router.get("/incidents/{incident_id}/history.html", response_class=HTMLResponse)
def history_page(incident_id: UUID, auditor: Auditor, ledger: Ledger) -> str:
    """The same history as a page a person can read and print."""
    rows = "".join(
        f"<tr><td>{e.position}</td><td>{e.version}</td><td>{e.occurred_at:%Y-%m-%d %H:%M:%S}"
        f"</td><td>{e.recorded_at:%Y-%m-%d %H:%M:%S}{' (late)' if e.late else ''}</td>"
        f"<td>{escape(e.line)}</td></tr>"
        for e in (entry(ev, p) for ev, p in visible_history(ledger, incident_id, auditor))
    )
    head = "<tr><th>Position</th><th>Version</th><th>Happened (UTC)</th><th>Recorded (UTC)</th>"
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>History {incident_id}</title>"
        f"</head><body><h1>Incident {incident_id}</h1><table border='1'>{head}<th>What</th>"
        f"</tr>{rows}</table></body></html>"
    )


@router.get("/incidents/{incident_id}/as-of")
def as_of(
    incident_id: UUID,
    auditor: Auditor,
    ledger: Ledger,
    s: ServicesDep,
    names: DepartmentNames,
    version: Annotated[int | None, Query(ge=1, le=MAX_POSITION)] = None,
    position: Annotated[int | None, Query(ge=1, le=MAX_POSITION)] = None,
    recorded_at: Moment | None = None,
    occurred_at: Moment | None = None,
) -> AsOf:
    """The incident and both Kenosha reports as of a version, a log position, a recorded
    time, or a real-world time (then events recorded later are marked as late entries)."""
    given = [c for c in (version, position, recorded_at, occurred_at) if c is not None]
    if len(given) != 1:
        raise ApiProblem(
            400,
            "bad-as-of",
            "Give exactly one point in time",
            "use one of version, position, recorded_at or occurred_at",
        )
    events, audience = ledger.positioned_history(incident_id, auditor.sees)
    if position is not None:
        check_written(s, position)
    newest = events[-1][0].originator_version
    if version is not None and version > newest:
        raise ApiProblem(
            400, "unknown-version", "The incident has no such version", f"its newest is {newest}"
        )
    kept = [(e, p) for e, p in events if before(e, p, version, position, recorded_at, occurred_at)]
    if not kept:
        raise ApiProblem(
            404, "not-yet-opened", "The incident did not exist then", "pick a later point"
        )
    try:
        rows = rows_as_of(kept, incident_id, auditor.sees)
    except (NoResultFound, KeyError):
        # Only by real-world time: claimed times may order a step before what it depends on.
        raise ApiProblem(
            409,
            "inconsistent-as-of",
            "The events that happened by then do not stand alone",
            "their claimed times contradict their order; use version, position or recorded_at",
        ) from None
    if rows is None:
        raise ApiProblem(
            404, "not-party-then", "Your agency was not a party then", "pick a later point"
        )
    late = [
        e.originator_version
        for e, _ in kept
        if occurred_at and e.timestamp > occurred_at and audience.sees(e, auditor.sees)
    ]
    incident = {
        **rows.incident,
        "requests": rows.requests,
        "officers": rows.officers,
        "obligations": rows.obligations,
    }
    return AsOf(
        incident=IncidentRead.model_validate(incident),
        summary=SummaryReport.model_validate(reports.summary_report(rows, names)),
        full=FullReport.model_validate(reports.full_report(rows, names)),
        late_entries=late,
    )


@router.get("/incidents/{incident_id}/verify")
def verify_incident(
    incident_id: UUID, auditor: Auditor, ledger: Ledger, s: ServicesDep
) -> IncidentVerdictOut:
    """Check the incident's events against their seals (contiguous, linked, unchanged) and
    its snapshots against its events."""
    ledger.positioned_history(incident_id, auditor.sees)
    sealed(s)
    found = verdict(verify_stored_incident(ledger.recorder, s.read_models, incident_id))
    differing = ledger.differing_snapshots(incident_id)
    return IncidentVerdictOut(
        **{**found.model_dump(), "ok": found.ok and not differing},
        differing_snapshots=differing,
    )


@router.get("/audit/verify")
def verify_log(_: StateAuditor, s: ServicesDep) -> LogVerdictOut:
    """Check the whole log against its seals and the checkpoints signed with the service's
    key, and say how far such a signature vouches for it."""
    sealed(s)
    private = s.signing_key()
    trusted = frozenset([public_key_of(private)] if private else [])
    found = verify_store(s.ledger.recorder, s.read_models, trusted)
    return LogVerdictOut(**verdict(found).model_dump(), signed_up_to=found.signed_up_to)


@router.post("/audit/checkpoints", status_code=201)
def create_checkpoint(_: StateAuditor, s: ServicesDep) -> CheckpointOut:
    """Sign the log digest at the newest event. Keep the answer outside the service."""
    private = s.signing_key()
    if private is None:
        raise ApiProblem(
            503,
            "no-signing-key",
            "Checkpoints are not configured",
            "the service has no MAL_SIGNING_KEY",
        )
    sealed(s)
    return CheckpointOut(**asdict(make_checkpoint(s.read_models, private)))


@router.get("/audit/checkpoints")
def list_checkpoints(_: StateAuditor, s: ServicesDep) -> list[CheckpointOut]:
    return [CheckpointOut(**asdict(c)) for c in load_checkpoints(s.read_models)]


def visible_history(ledger: Any, incident_id: UUID, auditor: Principal) -> list[tuple[Any, int]]:
    events, audience = ledger.positioned_history(incident_id, auditor.sees)
    return [(e, p) for e, p in events if audience.sees(e, auditor.sees)]


@router.get(
    "/audit/bundle",
    response_class=StreamingResponse,
    responses={200: {"content": {BUNDLE_TYPE: {}}, "description": "JSON Lines"}},
)
def bundle(_: StateAuditor, s: ServicesDep) -> StreamingResponse:
    """The whole log, its seals and signed checkpoints as JSON Lines, to verify offline with
    `mutual-aid verify-bundle` and the service's public key alone. Streamed."""
    sealed(s)
    return StreamingResponse(bundle_lines(s.ledger.recorder, s.read_models), media_type=BUNDLE_TYPE)


def sealed(s: Any) -> None:
    if not s.seal_to_head(s.settings.read_wait_seconds):
        raise ApiProblem(
            503,
            "projection-behind",
            "The log is not sealed up to its head yet",
            "retry shortly",
            {"Retry-After": "1"},
        )


def before(
    event: Any,
    pos: int,
    version: int | None,
    position: int | None,
    recorded_at: datetime | None,
    occurred_at: datetime | None,
) -> bool:
    if version is not None:
        return bool(event.originator_version <= version)
    if position is not None:
        return pos <= position
    if recorded_at is not None:
        return bool(event.timestamp <= recorded_at)
    return bool(event.occurred_at <= occurred_at)


def entry(event: Any, position: int) -> HistoryEntry:
    data = {k: v for k, v in vars(event).items() if k not in EVENT_FIELDS}
    return HistoryEntry(
        position=position,
        version=event.originator_version,
        type=type(event).__name__,
        line=describe(event),
        recorded_at=event.timestamp,
        occurred_at=data.pop("occurred_at"),
        late=event.timestamp - event.occurred_at > LATE,
        actor=to_jsonable_python(data.pop("actor")),
        data=to_jsonable_python(data),
    )


def verdict(found: Any) -> VerdictOut:
    broken = found.first_break
    return VerdictOut(
        ok=broken is None,
        checked=found.checked,
        first_break={"position": broken.position, "reason": broken.reason} if broken else None,
    )
