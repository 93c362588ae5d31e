"""The built-in status board: one page and the one read it draws from."""

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from api.deps import DashboardReader, ReadModels
from api.problems import problem_responses
from api.schemas.reads import Board
from projections.board import board

PAGE = Path(__file__).parent / "static" / "board.html"
ERRORS = problem_responses(403)
router = APIRouter(tags=["reads"], responses=ERRORS)


@router.get("/v1/board")
def status_board(reader: DashboardReader, engine: ReadModels) -> Board:
    """Open incidents, deployed resources per agency, open obligations, aid per month."""
    with engine.connect() as conn:
        return Board.model_validate(board(conn, reader.agency))


@router.get("/board", response_class=HTMLResponse, include_in_schema=False)
def board_page() -> str:
    return PAGE.read_text()
