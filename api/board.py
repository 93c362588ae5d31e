"""The built-in status board: one page and the one read it draws from."""

from functools import cache
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo, available_timezones

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse
from pydantic import AfterValidator

from api.deps import DashboardReader, Now, ReadModels
from api.problems import problem_responses
from api.schemas.reads import Board
from projections.board import board, window_start
from projections.queries import snapshot

PAGE = Path(__file__).parent / "static" / "board.html"
ERRORS = problem_responses(403)
router = APIRouter(tags=["reads"], responses=ERRORS)


@cache
def known_zones() -> frozenset[str]:
    return frozenset(available_timezones())


def iana_zone(name: str) -> str:
    """One of the zones the system knows: ZoneInfo itself would open any path it is given
    (a folder, a name too long for the file system: errors other than 'not found')."""
    if name not in known_zones():
        raise ValueError(f"{name!r} is not an IANA time zone, e.g. America/Chicago")
    return name


ZoneName = Annotated[
    str,
    AfterValidator(iana_zone),
    Query(max_length=64, description="The calendar the months are counted in (IANA name)."),
]
Months = Annotated[
    int,
    Query(
        ge=1,
        le=60,
        description="How many months aid is counted over: this one and those before it.",
    ),
]


@router.get("/v1/board")
def status_board(
    reader: DashboardReader,
    engine: ReadModels,
    now: Now,
    time_zone: ZoneName = "UTC",
    months: Months = 12,
) -> Board:
    """Open incidents, deployed resources per agency, open obligations, aid per month over the
    last ``months`` (of ``time_zone``'s calendar: an agency's evening at the end of a month is
    in that month)."""
    zone = ZoneInfo(time_zone)
    since = window_start(now, zone, months)
    with snapshot(engine) as conn:
        return Board.model_validate(board(conn, reader.agency, zone, since))


@router.get("/board", response_class=HTMLResponse, include_in_schema=False)
def board_page() -> str:
    return PAGE.read_text()
