"""Statistics of mutual aid given and received by the caller's agency over a period."""

from datetime import datetime
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel

from api.deps import DashboardReader, Now, ReadModels
from api.problems import ApiProblem, problem_responses
from api.schemas.commands import Moment
from projections.queries import snapshot, statistics_rows
from projections.statistics import agency_statistics

ERRORS = problem_responses(400, 403, 422)
router = APIRouter(prefix="/v1", tags=["reads"], responses=ERRORS)


class Percentiles(BaseModel):
    median: float | None
    p90: float | None
    count: int


class Statistics(BaseModel):
    agency: str
    start: datetime
    end: datetime
    requests_made: int
    requests_received: int
    decisions_on_requests_made: dict[str, int]
    decisions_on_requests_received: dict[str, int]
    officers_received: int
    officers_sent: int
    resources_received: dict[str, int]
    resources_sent: dict[str, int]
    officer_hours_sent: float
    minutes_from_request: dict[str, Percentiles]


@router.get("/statistics")
def statistics(
    reader: DashboardReader, engine: ReadModels, now: Now, start: Moment, end: Moment
) -> Statistics:
    """Requests made and received in [start, end), their decisions, officers and resources
    sent and received, officer-hours, and median and 90th percentile minutes from request to
    approval, response, arrival and close."""
    if end <= start:
        raise ApiProblem(400, "bad-period", "The period is empty", "end must be after start")
    agency = reader.agency
    with snapshot(engine) as conn:
        rows = statistics_rows(conn, agency, start, end)
    found: dict[str, Any] = agency_statistics(
        agency, rows.requests, rows.officers, rows.withdrawn_at, now
    )
    return Statistics(agency=agency, start=start, end=end, **found)
