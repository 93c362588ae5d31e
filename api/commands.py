"""Write endpoints: one per command. Each translates its body to domain values, calls the
ledger once and answers with the new version (as ETag) and log position."""

import asyncio
from collections.abc import Callable
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Response
from fastapi.routing import APIRoute

from api import examples
from api.deps import WRITE_DOCS, Pre
from api.examples import example
from api.problems import problem_responses
from api.schemas.commands import (
    ActivityReport,
    Approval,
    AssistanceRequestCreate,
    Cancellation,
    Closure,
    CorrectionCreate,
    Fulfilment,
    IncidentOpen,
    InvolvementCreate,
    OfficersNamedCreate,
    ResponseCreate,
    WithdrawalCreate,
    WriteResult,
)
from app.ledger import Pending

ERRORS = problem_responses(400, 403, 404, 409, 412, 413, 422)


class CommandRoute(APIRoute):
    """Documents the key and headers that `Pre` reads from the request itself."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **options: Any) -> None:
        super().__init__(path, endpoint, **{**options, "openapi_extra": WRITE_DOCS})


def commands(prefix: str) -> APIRouter:
    return APIRouter(prefix=prefix, tags=["commands"], responses=ERRORS, route_class=CommandRoute)


router = commands("/v1/incidents")
activities = commands("/v1/activities")
REQUEST = "/{incident_id}/requests/{number}"

OpenBody = Annotated[IncidentOpen, example("KPD asks the Sheriff for four officers", examples.OPEN)]
AddRequestBody = Annotated[
    AssistanceRequestCreate, example("KPD asks Pleasant Prairie too", examples.ADD_REQUEST)
]
ApproveBody = Annotated[Approval, example("The sergeant approves request 1", examples.APPROVE)]
RespondBody = Annotated[ResponseCreate, example("The Sheriff sends two of four", examples.RESPOND)]
NameBody = Annotated[
    OfficersNamedCreate, example("The Sheriff names its second deputy", examples.NAME_OFFICERS)
]
RecallBody = Annotated[WithdrawalCreate, example("The Sheriff recalls one", examples.RECALL)]
ReleaseBody = Annotated[WithdrawalCreate, example("KPD sends the rest home", examples.RELEASE)]
ArrivalBody = Annotated[Approval, example("The deputies report to Lt. Moss", examples.ARRIVAL)]
CancelBody = Annotated[Cancellation, example("KPD no longer needs request 2", examples.CANCEL)]
InvolvementBody = Annotated[
    InvolvementCreate, example("What Deputy Lee did and saw", examples.INVOLVEMENT)
]
FulfilBody = Annotated[
    Fulfilment, example("KPD reports the request to its command staff", examples.FULFIL)
]
ActivityBody = Annotated[
    ActivityReport, example("An Alsip officer's pursuit ends in Worth", examples.ACTIVITY)
]
CorrectionBody = Annotated[
    CorrectionCreate, example("KPD corrects where the incident was", examples.CORRECTION)
]
CloseBody = Annotated[Closure, example("KPD closes with the outcome", examples.CLOSE)]


async def answer(pending: Pending, response: Response) -> WriteResult:
    """Waits for the ledger's writer on the event loop: no worker thread per command."""
    written = await asyncio.wrap_future(pending)
    response.headers["ETag"] = f'"{written.version}"'
    return WriteResult(
        incident_id=str(written.incident_id), version=written.version, position=written.position
    )


async def created(pending: Pending, response: Response) -> WriteResult:
    answered = await answer(pending, response)
    response.headers["Location"] = f"/v1/incidents/{answered.incident_id}"
    return answered


@router.post("", status_code=201)
async def open_incident(body: OpenBody, pre: Pre, response: Response) -> WriteResult:
    """Open an incident by asking the first agency for help."""
    pending = pre.ledger.open_incident(
        pre.context(body),
        case_number=body.case_number,
        nature=body.nature,
        kind=body.kind,
        location=body.location,
        request=body.request.details(),
        scene_management=body.scene_management,
    )
    return await created(pending, response)


@activities.post("", status_code=201)
async def report_activity(body: ActivityBody, pre: Pre, response: Response) -> WriteResult:
    """Alsip 205.3.1: record activity outside the jurisdiction; notifications are owed."""
    pending = pre.ledger.report_activity(
        pre.context(body),
        case_number=body.case_number,
        nature=body.nature,
        location=body.location,
        jurisdiction=body.jurisdiction,
    )
    return await created(pending, response)


@router.post("/{incident_id}/requests", status_code=201)
async def request_assistance(
    incident_id: UUID, body: AddRequestBody, pre: Pre, response: Response
) -> WriteResult:
    """Ask one more agency for help on this incident."""
    pending = pre.ledger.request_assistance(incident_id, body.details(), pre.context(body))
    return await answer(pending, response)


@router.post(REQUEST + "/approve")
async def approve(
    incident_id: UUID,
    number: int,
    body: ApproveBody,
    pre: Pre,
    response: Response,
) -> WriteResult:
    """A supervisor approves the request: needed before a response only where the requesting
    agency's policy has an approval step (Kenosha IV.A); elsewhere it is recorded all the same."""
    return await answer(pre.ledger.approve(incident_id, number, pre.context(body)), response)


@router.post(REQUEST + "/respond")
async def respond(
    incident_id: UUID,
    number: int,
    body: RespondBody,
    pre: Pre,
    response: Response,
) -> WriteResult:
    """The agency asked accepts, partially accepts or declines, naming what it sends."""
    decided = body.details(pre.agency)
    return await answer(
        pre.ledger.respond(incident_id, number, decided, pre.context(body)), response
    )


@router.post(REQUEST + "/officers")
async def name_officers(
    incident_id: UUID,
    number: int,
    body: NameBody,
    pre: Pre,
    response: Response,
) -> WriteResult:
    """Kenosha IV.C.1: the agency asked names officers it sent whom its response did not
    name, while they are deployed and the incident is open; involvement may then be recorded
    for them."""
    named = body.named(pre.agency)
    return await answer(
        pre.ledger.name_officers(incident_id, number, named, pre.context(body)), response
    )


@router.post(REQUEST + "/recall")
async def recall(
    incident_id: UUID,
    number: int,
    body: RecallBody,
    pre: Pre,
    response: Response,
) -> WriteResult:
    """The agency asked takes back all or part of what it sent."""
    withdrawal = body.withdrawal()
    return await answer(
        pre.ledger.recall(incident_id, number, withdrawal, pre.context(body)), response
    )


@router.post(REQUEST + "/release")
async def release(
    incident_id: UUID,
    number: int,
    body: ReleaseBody,
    pre: Pre,
    response: Response,
) -> WriteResult:
    """The requesting agency sends all or part of the responders home."""
    withdrawal = body.withdrawal()
    return await answer(
        pre.ledger.release(incident_id, number, withdrawal, pre.context(body)), response
    )


@router.post(REQUEST + "/arrive")
async def record_arrival(
    incident_id: UUID,
    number: int,
    body: ArrivalBody,
    pre: Pre,
    response: Response,
) -> WriteResult:
    """The responders arrived and reported to the person named in the request."""
    return await answer(pre.ledger.record_arrival(incident_id, number, pre.context(body)), response)


@router.post(REQUEST + "/cancel")
async def cancel(
    incident_id: UUID,
    number: int,
    body: CancelBody,
    pre: Pre,
    response: Response,
) -> WriteResult:
    return await answer(
        pre.ledger.cancel(incident_id, number, body.reason, pre.context(body)), response
    )


@router.post(REQUEST + "/officers/{badge}/involvement")
async def record_involvement(
    incident_id: UUID,
    number: int,
    badge: str,
    body: InvolvementBody,
    pre: Pre,
    response: Response,
) -> WriteResult:
    """Kenosha IV.C.2: what an officer did and observed."""
    pending = pre.ledger.record_involvement(
        incident_id, number, badge, body.involvement, body.observations, pre.context(body)
    )
    return await answer(pending, response)


@router.post("/{incident_id}/obligations/{number}/fulfil")
async def fulfil(
    incident_id: UUID,
    number: int,
    body: FulfilBody,
    pre: Pre,
    response: Response,
) -> WriteResult:
    """Record a notification made or a report filed that a policy requires."""
    recipients = tuple(body.recipients)
    pending = pre.ledger.fulfil(incident_id, number, recipients, body.note, pre.context(body))
    return await answer(pending, response)


@router.post("/{incident_id}/close")
async def close(incident_id: UUID, body: CloseBody, pre: Pre, response: Response) -> WriteResult:
    pending = pre.ledger.close_incident(
        incident_id, body.outcome, body.release_all, pre.context(body)
    )
    return await answer(pending, response)


@router.post("/{incident_id}/corrections")
async def correct(
    incident_id: UUID, body: CorrectionBody, pre: Pre, response: Response
) -> WriteResult:
    """Correct a recorded fact with a reason, dated no earlier than the fact; history keeps the
    original and the correction."""
    pending = pre.ledger.correct(
        incident_id, body.fact, body.request_number, body.value, body.reason, pre.context(body)
    )
    return await answer(pending, response)
