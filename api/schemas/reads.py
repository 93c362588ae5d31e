"""Answers of the read endpoints, validated from read-model rows and report builders."""

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from projections.board import LISTED


class Read(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class ActorOut(Read):
    agency: str
    name: str
    rank: str
    badge: str | None = None
    roles: list[str] = []


class RuleOut(Read):
    """The policy rule that decided a step."""

    policy_id: str
    version: int
    section: str


class ExceptionOut(Read):
    kind: str
    justification: str
    rule: RuleOut


class FulfilmentOut(Read):
    recipients: list[str]
    note: str
    by: ActorOut
    occurred_at: datetime


class ObligationOut(Read):
    number: int
    party: str
    kind: str
    recipients: list[str]
    outstanding: list[str]
    status: str
    rule: RuleOut
    request_number: int | None
    created_at: datetime
    met_at: datetime | None
    fulfilments: list[FulfilmentOut]


class Line(Read):
    resource: str
    quantity: int


class OfficerOut(Read):
    name: str
    badge: str
    agency: str
    rank: str | None = None


class RequestRead(Read):
    number: int
    agency: str
    status: str
    resources: list[Line]
    needed_at: datetime
    location: str
    report_to: str
    staging_area: str | None
    radio_channel: str | None
    facts: str
    requested_by: ActorOut
    requested_at: datetime
    approved_by: ActorOut | None
    approved_at: datetime | None
    decision: str | None
    committed: list[Line] | None
    response_facts: str | None
    officer_in_charge: OfficerOut | None
    responded_by: ActorOut | None
    responded_at: datetime | None
    arrived_at: datetime | None
    deployed: dict[str, int]
    arrestee_transport: bool
    requested_under: RuleOut | None
    request_exception: ExceptionOut | None
    approved_under: RuleOut | None
    responded_under: RuleOut | None
    response_exception: ExceptionOut | None


class OfficerRead(Read):
    number: int
    name: str
    badge: str
    agency: str
    rank: str | None
    status: str


class IncidentSummaryRead(Read):
    incident_id: UUID
    case_number: str
    requesting_agency: str
    nature: str
    kind: str
    location: str
    scene_management: str | None
    status: str
    open_obligations: int
    opened_by: ActorOut
    opened_at: datetime
    recorded_at: datetime
    outcome: str | None
    closed_at: datetime | None
    version: int
    position: int


class IncidentRead(IncidentSummaryRead):
    requests: list[RequestRead]
    officers: list[OfficerRead]
    obligations: list[ObligationOut]


class IncidentList(BaseModel):
    items: list[IncidentSummaryRead]
    next_cursor: str | None


class HistoryEntry(BaseModel):
    position: int
    version: int
    type: str
    line: str
    recorded_at: datetime
    occurred_at: datetime
    late: bool
    actor: ActorOut
    data: dict[str, Any]


class History(BaseModel):
    incident_id: UUID
    total: int
    events: list[HistoryEntry]


class Requestor(ActorOut):
    department: str
    department_name: str | None = Field(
        description="The department's name in the directory (null for one outside it)."
    )


class DecisionBasis(BaseModel):
    request_number: int
    agency: str
    facts_for_request: str
    facts_for_response: str | None


class ResponseMade(BaseModel):
    request_number: int
    agency: str
    status: str
    requested: list[Line]
    requested_at: datetime = Field(description="When this request was made (Kenosha IV.B.1).")
    requested_by: Requestor = Field(description="Who made this request (Kenosha IV.B.4).")
    committed: list[Line]
    still_deployed: list[Line]
    approved_by: ActorOut | None
    responded_by: ActorOut | None
    officer_in_charge: OfficerOut | None


class PolicyDecisions(BaseModel):
    request_number: int
    agency: str
    requested_under: RuleOut | None
    approved_under: RuleOut | None
    responded_under: RuleOut | None
    exceptions: list[ExceptionOut]


class CorrectionOut(BaseModel):
    fact: str
    request_number: int | None
    original: str | None
    corrected: str
    reason: str
    by: ActorOut
    occurred_at: datetime


class SummaryReport(BaseModel):
    """Kenosha 2.1 IV.B.1-7, with the rule behind each step and what is still owed."""

    incident_id: UUID
    requested_at: datetime = Field(
        description="When the first request shown was made: for an agency asked, its own; "
        "each request's is in responses."
    )
    case_number: str
    nature_of_incident: str
    requestor: Requestor = Field(description="Who made the first request shown.")
    basis_for_decisions: list[DecisionBasis]
    responses: list[ResponseMade]
    outcome: str
    status: str
    closed_at: datetime | None
    policy_decisions: list[PolicyDecisions]
    obligations: list[ObligationOut]
    open_obligations: int
    corrections: list[CorrectionOut] = Field(
        description="Facts corrected after they were recorded; the values above are corrected."
    )


class InvolvementNote(BaseModel):
    involvement: str
    observations: str
    recorded_by: ActorOut
    occurred_at: datetime


class OfficerEntry(BaseModel):
    request_number: int
    name: str
    badge: str
    rank: str | None
    department: str
    department_name: str | None = Field(
        description="The department's name in the directory (null for one outside it)."
    )
    status: str
    involvement: list[InvolvementNote]


class NamesGiven(BaseModel):
    request_number: int
    agency: str
    committed: list[Line]
    officers_named: int = Field(description="Officers sent under the request who were named.")
    units_not_named: int = Field(
        description="Committed units beyond the officers named: officers whose names were not "
        "given, or equipment (resource kinds do not tell them apart)."
    )


class WithdrawalEntry(BaseModel):
    request_number: int
    kind: str
    resources: list[Line]
    badges: list[str]
    reason: str
    by: ActorOut
    occurred_at: datetime


class FullReport(SummaryReport):
    """Kenosha 2.1 IV.C: everything in IV.B, plus every officer and their involvement."""

    officers: list[OfficerEntry] = Field(
        description="Every officer sent or named in charge of a detail (status in_charge)."
    )
    officer_names: list[NamesGiven] = Field(
        description="Per request that committed resources, how many committed units no "
        "officer is named for."
    )
    withdrawals: list[WithdrawalEntry]


class AsOf(BaseModel):
    """The incident and both reports as they stood at the given point."""

    incident: IncidentRead
    summary: SummaryReport
    full: FullReport
    late_entries: list[int]


class BreakOut(BaseModel):
    position: int
    reason: str


class VerdictOut(BaseModel):
    ok: bool
    checked: int
    first_break: BreakOut | None


class LogVerdictOut(VerdictOut):
    signed_up_to: int | None = Field(
        description="The newest position a checkpoint signed by the service's key vouches "
        "for. The events after it only match their seals, which whoever can write the store "
        "can recompute; null when no such checkpoint exists (checkpoints signed by another "
        "key are passed over)."
    )


class IncidentVerdictOut(VerdictOut):
    # Versions whose snapshot differs from the state its events give (then not ok).
    differing_snapshots: list[int]


class CheckpointOut(BaseModel):
    position: int
    log_digest: str
    signed_at: str
    public_key: str
    signature: str


class BoardRequest(BaseModel):
    number: int
    agency: str
    status: str
    deployed: dict[str, int]


class BoardIncident(BaseModel):
    incident_id: UUID
    case_number: str
    nature: str
    requesting_agency: str
    opened_at: datetime
    open_obligations: int = Field(description="Those that concern the caller's agency.")
    requests: list[BoardRequest]


class BoardObligation(BaseModel):
    case_number: str
    number: int
    kind: str
    outstanding: list[str]
    section: str
    created_at: datetime


class BoardMonth(BaseModel):
    month: str
    given: int
    received: int


class Board(BaseModel):
    """The status board of the caller's agency."""

    open_incident_count: int = Field(
        description="Open incidents the agency is party to; more than open_incidents holds "
        "when that list is cut (page through GET /v1/incidents?status=open for the rest)."
    )
    open_incidents: list[BoardIncident] = Field(description=f"The newest {LISTED}, newest first.")
    deployed_by_agency: dict[str, dict[str, int]] = Field(
        description="Resources deployed on every open incident, per agency and resource."
    )
    open_obligations: list[BoardObligation] = Field(description="Owed by the agency.")
    monthly: list[BoardMonth] = Field(
        description="Requests answered with help, given and received, per month of time_zone's "
        "calendar over the window asked for (months: this month and those before it), oldest "
        "first. A month without any is left out."
    )
