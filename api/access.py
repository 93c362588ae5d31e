"""Writes the access log for every request and serves it to auditors (api/answers.py calls
record as each answer starts)."""

import logging
from typing import Annotated, Any

from fastapi import APIRouter, Query
from sqlalchemy.exc import SQLAlchemyError
from starlette.types import Scope

from api.deps import MAX_POSITION, Auditor, ServicesDep
from api.problems import problem_responses
from app.access_log import entries_of

log = logging.getLogger(__name__)
ERRORS = problem_responses(403, 422)
router = APIRouter(prefix="/v1", tags=["audit"], responses=ERRORS)


async def record(scope: Scope, status: int, _seconds: float) -> None:
    """Commit the request's access log entry; the answer waits for it (see api/answers.py)."""
    principal = scope.get("state", {}).get("principal")
    client = scope.get("client")
    entry = {
        "agency": principal.agency if principal else None,
        "key_id": principal.key_id if principal else None,
        "role": principal.role.value if principal else None,
        "method": scope["method"],
        "path": logged_path(scope["path"]),
        "status": status,
        "source": client[0] if client else None,
    }
    try:
        await scope["app"].state.access_log.recorded(entry)
    except SQLAlchemyError:
        # The database refused the entry's data, or was unavailable and the spool could not
        # take it either (a full disk): keep it in the process log rather than turn the
        # answer into an error.
        log.error("access log entry not stored; entry: %s", entry)


MAX_PATH = 1024  # no route's path is near it; a longer one is kept to here, and marked


def logged_path(path: str) -> str:
    """As sent where PostgreSQL's text cannot hold it (a NUL, sent as %00), up to MAX_PATH
    characters: a client may send 60,000, and each entry is kept for good."""
    path = path.replace("\x00", "%00")
    if len(path) <= MAX_PATH:
        return path
    return f"{path[:MAX_PATH]}...[truncated: {len(path)} characters]"


@router.get("/access-log")
def access_entries(
    auditor: Auditor,
    s: ServicesDep,
    after: Annotated[int, Query(ge=0, le=MAX_POSITION)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[dict[str, Any]]:
    """Requests made with the auditor's agency's keys, allowed or refused, oldest first; every
    request for a state auditor. This read is logged too."""
    with s.access_log.connect() as conn:
        return entries_of(conn, auditor.sees, after, limit)
