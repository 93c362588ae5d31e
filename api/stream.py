"""A live stream of incident events (Server-Sent Events), resumable with Last-Event-ID.

Each message's id is its log position; positions only grow and become visible in commit
order, so a client that reconnects with the last id it saw gets every later event exactly
once, in order, across reconnects and server restarts. An agency receives an event when it
may see it as of that event (domain/visibility.py), the same rule as every other read.
"""

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from api.audit import entry
from api.deps import MAX_POSITION, Ledger, Reader, bearer, current_principal
from api.problems import problem_responses
from app.keys import RecentKeys
from app.ledger import MutualAidLedger
from domain.incident import Incident
from domain.visibility import Audience, audience_of

ERRORS = problem_responses(403, 422)
router = APIRouter(prefix="/v1", tags=["stream"], responses=ERRORS)
BATCH = 200


@router.get("/stream", response_class=StreamingResponse)
async def stream(
    request: Request,
    reader: Reader,
    ledger: Ledger,
    last_event_id: Annotated[int | None, Header(ge=0, le=MAX_POSITION)] = None,
    after: Annotated[
        int, Query(ge=0, le=MAX_POSITION, description="Start after this position")
    ] = 0,
) -> StreamingResponse:
    """Events of the incidents the caller is a party to, from after the given position."""
    start = last_event_id if last_event_id is not None else after
    messages = events_after(request, ledger, reader.sees, start)
    return StreamingResponse(messages, media_type="text/event-stream")


async def events_after(
    request: Request, ledger: MutualAidLedger, agency: str | None, position: int
) -> AsyncIterator[str]:
    audiences = Audiences(ledger)
    keys: RecentKeys = request.app.state.keys
    credentials = await bearer(request)  # let through by the route's Reader
    key = credentials.credentials if credentials else ""
    # A stream outlives any one request: a key revoked or expired while it runs ends it
    # within the seconds another process's keys take to notice (RecentKeys), and a
    # reconnect is answered 401.
    services = request.app.state.services
    while not await request.is_disconnected() and await current_principal(keys, key):
        grew = services.log_grew.waiter()  # before the look: a write after it still wakes us
        batch = await run_in_threadpool(next_batch, ledger, audiences, agency, position)
        if not batch:
            yield ": idle\n\n"  # a comment line: keeps proxies from closing a quiet stream
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(grew, services.settings.stream_poll_seconds)
            continue
        grew.cancel()
        for text in (text for text, _ in batch if text):
            yield text
        position = batch[-1][1]


def next_batch(
    ledger: MutualAidLedger, audiences: "Audiences", agency: str | None, position: int
) -> list[tuple[str | None, int]]:
    notifications = ledger.recorder.select_notifications(position, BATCH, inclusive_of_start=False)
    batch = []
    for notification in notifications:
        event = ledger.mapper.to_domain_event(notification)
        visible = audiences.sees(event, agency)
        batch.append((message(event, notification.id) if visible else None, notification.id))
    return batch


def message(event: Any, position: int) -> str:
    data = entry(event, position).model_dump(mode="json")
    data["incident_id"] = str(event.originator_id)
    return f"id: {position}\nevent: {type(event).__name__}\ndata: {json.dumps(data)}\n\n"


class Audiences:
    """Who may see what of each incident, followed event by event; rebuilt from the log when
    the stream starts in the middle of an incident."""

    def __init__(self, ledger: MutualAidLedger) -> None:
        self._ledger = ledger
        self._known: dict[Any, tuple[int, Audience]] = {}

    def sees(self, event: Any, agency: str | None) -> bool:
        version, audience = self._known.get(event.originator_id, (0, Audience()))
        if version != event.originator_version - 1:
            audience = self._load(event.originator_id, event.originator_version - 1)
        audience.follow(event)
        self._known[event.originator_id] = (event.originator_version, audience)
        if isinstance(event, Incident.IncidentOpened):
            # Opened together with its first request, in one write: that agency sees it too.
            return self._load(event.originator_id, event.originator_version + 1).sees(event, agency)
        return audience.sees(event, agency)

    def _load(self, incident_id: Any, version: int) -> Audience:
        if version < 1:
            return Audience()
        return audience_of(list(self._ledger.events.get(incident_id, lte=version)))
