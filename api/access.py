"""Writes the access log for every request and serves an agency its own entries."""

import logging
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint

from api.deps import Auditor, ReadConnection
from api.problems import problem_responses
from app.access_log import entries_of, record

log = logging.getLogger(__name__)
ERRORS = problem_responses(403, 422)
router = APIRouter(prefix="/v1", tags=["audit"], responses=ERRORS)


class AccessLogMiddleware(BaseHTTPMiddleware):
    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        response = await call_next(request)
        principal = getattr(request.state, "principal", None)
        entry = {
            "agency": principal.agency if principal else None,
            "key_id": principal.key_id if principal else None,
            "role": principal.role.value if principal else None,
            "method": request.method,
            "path": request.url.path,
            "status": response.status_code,
            "source": request.client.host if request.client else None,
        }
        try:
            await run_in_threadpool(record, request.app.state.services.read_models, entry)
        except SQLAlchemyError:
            # The database is down (the answer is already a 503): keep the entry in the
            # process log rather than turn the answer into an error.
            log.error("access log unavailable; entry: %s", entry)
        return response


@router.get("/access-log")
def access_entries(
    auditor: Auditor,
    conn: ReadConnection,
    after: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[dict[str, Any]]:
    """Requests made with the auditor's agency's keys, allowed or refused, oldest first; every
    request for a state auditor. This read is logged too."""
    return entries_of(conn, auditor.sees, after, limit)
