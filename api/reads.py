"""Read endpoints. All read the projections, except history, which reads the event log on
purpose: an auditor must see what was recorded, not what a projection made of it."""

import base64
import binascii
import json
from datetime import UTC, datetime, timedelta
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Response
from sqlalchemy.engine import Engine
from starlette.concurrency import run_in_threadpool

from api.deps import DepartmentNames, Reader, ReadModels, ServicesDep, VisibleIncident
from api.problems import ApiProblem, problem_responses
from api.schemas.commands import Moment, RoleFilter
from api.schemas.reads import (
    FullReport,
    IncidentList,
    IncidentRead,
    IncidentSummaryRead,
    SummaryReport,
)
from domain.incident import IncidentStatus
from domain.values import IncidentKind
from projections import reports
from projections.queries import IncidentFilter, list_incidents

ERRORS = problem_responses(400, 403, 404, 422)
router = APIRouter(prefix="/v1/incidents", tags=["reads"], responses=ERRORS)


@router.get("")
async def list_visible_incidents(
    reader: Reader,
    engine: ReadModels,
    s: ServicesDep,
    status: IncidentStatus | None = None,
    role: RoleFilter | None = None,
    kind: IncidentKind | None = None,
    opened_from: Moment | None = None,
    opened_to: Moment | None = None,
    open_obligations: bool | None = None,
    overdue_obligations: bool = False,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    cursor: str | None = None,
) -> IncidentList:
    """Incidents this agency requested or was asked on, newest first."""
    due = s.settings.obligation_due_minutes
    overdue_before = datetime.now(UTC) - timedelta(minutes=due) if overdue_obligations else None
    where = IncidentFilter(
        status, role, kind, opened_from, opened_to, open_obligations, overdue_before
    )
    limit = min(limit, s.settings.max_page_size)
    after = decode_cursor(cursor)
    # Query and page in one trip to a worker thread (FastAPI would take a second one to
    # check a sync endpoint's answer).
    return await run_in_threadpool(page_of, engine, reader.sees, where, limit, after)


def page_of(
    engine: Engine,
    agency: str | None,
    where: IncidentFilter,
    limit: int,
    after: tuple[datetime, UUID] | None,
) -> IncidentList:
    with engine.connect() as conn:
        rows = list_incidents(conn, agency, where, limit + 1, after)
    items = [IncidentSummaryRead.model_validate(row) for row in rows[:limit]]
    more = len(rows) > limit
    return IncidentList(items=items, next_cursor=encode_cursor(items[-1]) if more else None)


@router.get("/{incident_id}")
async def get_incident(rows: VisibleIncident, response: Response) -> IncidentRead:
    response.headers["ETag"] = f'"{rows.incident["version"]}"'
    return IncidentRead.model_validate(
        {
            **rows.incident,
            "requests": rows.requests,
            "officers": rows.officers,
            "obligations": rows.obligations,
        }
    )


@router.get("/{incident_id}/reports/summary")
async def summary_report(rows: VisibleIncident, names: DepartmentNames) -> SummaryReport:
    """Kenosha 2.1 IV.B: the summary every mutual aid request must be reported with."""
    return SummaryReport.model_validate(reports.summary_report(rows, names))


@router.get("/{incident_id}/reports/full")
async def full_report(rows: VisibleIncident, names: DepartmentNames) -> FullReport:
    """Kenosha 2.1 IV.C: the summary plus every officer, department and involvement."""
    return FullReport.model_validate(reports.full_report(rows, names))


def encode_cursor(last: IncidentSummaryRead) -> str:
    raw = json.dumps([last.opened_at.isoformat(), str(last.incident_id)])
    return base64.urlsafe_b64encode(raw.encode()).decode()


def decode_cursor(cursor: str | None) -> tuple[datetime, UUID] | None:
    if cursor is None:
        return None
    try:
        opened_at, incident_id = json.loads(base64.urlsafe_b64decode(cursor))
        return datetime.fromisoformat(opened_at).astimezone(UTC), UUID(incident_id)
    except (ValueError, TypeError, OverflowError, RecursionError, binascii.Error):
        raise ApiProblem(
            400, "bad-cursor", "The cursor is not valid", "use next_cursor as given"
        ) from None
