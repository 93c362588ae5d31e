"""A live stream of incident events (Server-Sent Events), resumable with Last-Event-ID.

Each message's id is its log position; positions only grow and become visible in commit
order, so a client that reconnects with the last id it saw gets every later event exactly
once, in order, across reconnects and server restarts. An agency receives an event when it is
a party to the incident as of that event, the same rule as every other read.
"""

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from api.audit import entry
from api.deps import Agency, Ledger
from api.problems import Problem
from app.ledger import MutualAidLedger
from domain.incident import Incident

ERRORS = {code: {"model": Problem} for code in (401, 422)}
router = APIRouter(prefix="/v1", tags=["stream"], responses=ERRORS)  # type: ignore[arg-type]
BATCH = 200
IDLE_SECONDS = 0.1


@router.get("/stream", response_class=StreamingResponse)
async def stream(
    request: Request,
    agency: Agency,
    ledger: Ledger,
    last_event_id: Annotated[int | None, Header(ge=0)] = None,
    after: Annotated[int, Query(ge=0, description="Start after this position")] = 0,
) -> StreamingResponse:
    """Events of the incidents the caller is a party to, from after the given position."""
    start = last_event_id if last_event_id is not None else after
    messages = events_after(request, ledger, agency, start)
    return StreamingResponse(messages, media_type="text/event-stream")


async def events_after(
    request: Request, ledger: MutualAidLedger, agency: str, position: int
) -> AsyncIterator[str]:
    parties = Parties(ledger)
    while not await request.is_disconnected():
        batch = await run_in_threadpool(next_batch, ledger, parties, agency, position)
        if not batch:
            yield ": idle\n\n"  # a comment line: keeps proxies from closing a quiet stream
            await asyncio.sleep(IDLE_SECONDS)
            continue
        for text in (text for text, _ in batch if text):
            yield text
        position = batch[-1][1]


def next_batch(
    ledger: MutualAidLedger, parties: "Parties", agency: str, position: int
) -> list[tuple[str | None, int]]:
    notifications = ledger.recorder.select_notifications(position, BATCH, inclusive_of_start=False)
    batch = []
    for notification in notifications:
        event = ledger.mapper.to_domain_event(notification)
        visible = agency in parties.as_of(event)
        batch.append((message(event, notification.id) if visible else None, notification.id))
    return batch


def message(event: Any, position: int) -> str:
    data = entry(event, position).model_dump(mode="json")
    data["incident_id"] = str(event.originator_id)
    return f"id: {position}\nevent: {type(event).__name__}\ndata: {json.dumps(data)}\n\n"


class Parties:
    """Who is party to each incident as of each event, followed event by event; rebuilt from
    the log when the stream starts in the middle of an incident."""

    def __init__(self, ledger: MutualAidLedger) -> None:
        self._ledger = ledger
        self._known: dict[Any, tuple[int, set[str]]] = {}

    def as_of(self, event: Any) -> set[str]:
        version, parties = self._known.get(event.originator_id, (0, set()))
        if version != event.originator_version - 1:
            parties = self._load(event.originator_id, event.originator_version - 1)
        if isinstance(event, Incident.IncidentOpened):
            # Opened together with its first request, in one write: both parties see it.
            parties = self._load(event.originator_id, event.originator_version + 1)
        if isinstance(event, Incident.AssistanceRequested):
            parties = parties | {event.details.agency}
        self._known[event.originator_id] = (event.originator_version, parties)
        return parties

    def _load(self, incident_id: Any, version: int) -> set[str]:
        if version < 1:
            return set()
        incident: Incident = self._ledger.repository.get(incident_id, version=version)
        return {incident.requesting_agency, *(r.agency for r in incident.requests.values())}
