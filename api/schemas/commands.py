"""Bodies of the write endpoints. Strict types and no unknown fields: a CAD that sends a wrong
type or a field the API does not own (an agency, a version, a status) is told so, and nothing is
stored. The acting agency never appears here: it comes from the caller's API key."""

import re
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from api import examples
from domain.corrections import Correctable
from domain.values import (
    Actor,
    Decision,
    IncidentKind,
    Officer,
    RequestDetails,
    ResourceLine,
    ResponseDetails,
    Withdrawal,
)

# CAD clocks drift; a claim further ahead than this is a typo, not a late entry.
CLOCK_SKEW = timedelta(minutes=5)
# A claim before this is a typo too (0001-01-01 was accepted, and a time cannot be corrected).
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)


def _within_utc_range(value: datetime) -> datetime:
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError("the time is outside the range of UTC times") from None


def _iso_8601(value: Any) -> Any:
    if isinstance(value, str) and ISO_DATE.match(value):
        return value
    raise ValueError("a time is an ISO 8601 text with an offset, e.g. 2026-11-01T02:00:00Z")


ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")
# Every time the API takes: ISO 8601 text (not a number of seconds) with an offset, and one
# that still exists once moved to UTC (0001-01-01T00:00+14:00 does not).
Moment = Annotated[AwareDatetime, BeforeValidator(_iso_8601), AfterValidator(_within_utc_range)]


def _storable(value: str) -> str:
    """PostgreSQL's text cannot hold U+0000: a NUL that reached the log would stop the
    projections there, at its event, for good. Refused on both stores alike."""
    if "\x00" in value:
        raise PydanticCustomError("nul_character", "text may not contain the NUL character")
    return value


Storable = AfterValidator(_storable)
Name = Annotated[StrictStr, Field(min_length=1, max_length=200), Storable]
Code = Annotated[
    StrictStr, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
]
Text = Annotated[StrictStr, Field(min_length=1, max_length=8000), Storable]
Reason = Annotated[StrictStr, Field(max_length=8000), Storable]


# Facts the service owns: the acting agency comes from the key; versions, positions, statuses,
# timestamps and hashes from the log. A body that carries one is refused by name.
SERVER_OWNED = frozenset(
    {
        "agency",
        "requesting_agency",
        "incident_id",
        "version",
        "position",
        "status",
        "recorded_at",
        "opened_at",
        "closed_at",
        "created_at",
        "hash",
        "seal",
    }
)


class Body(BaseModel):
    """Strict scalars: "3" is not a quantity and 1 is not a name."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @model_validator(mode="before")
    @classmethod
    def _no_server_owned_fields(cls, data: Any) -> Any:
        owned = sorted(SERVER_OWNED & data.keys()) if isinstance(data, dict) else []
        if owned:
            raise PydanticCustomError(
                "server_owned",
                "{field} is set by the service, never by the caller",
                {"field": owned[0]},
            )
        return data


class ActorIn(Body):
    """The person acting. Their agency is the caller's; it cannot be given here."""

    name: Name
    rank: Name
    badge: Code | None = None
    roles: Annotated[list[Code], Field(max_length=10)] = Field(
        default=[], description="Duties besides the rank: watch_commander, oic, ..."
    )

    def at(self, agency: str) -> Actor:
        return Actor(agency, self.name, self.rank, self.badge, tuple(self.roles))


class Command(Body):
    actor: ActorIn
    occurred_at: Moment | None = Field(
        default=None, description="When it happened, as claimed by the caller; default: now."
    )

    @field_validator("occurred_at")
    @classmethod
    def _plausible(cls, value: datetime | None) -> datetime | None:
        if value is not None and value > datetime.now(UTC) + CLOCK_SKEW:
            raise ValueError("occurred_at is in the future")
        if value is not None and value < EARLIEST:
            raise ValueError(f"occurred_at is before {EARLIEST.date().isoformat()}")
        return value

    def stamp(self, agency: str) -> tuple[Actor, datetime]:
        """Who acts (in the caller's agency) and when; now, if the caller did not say."""
        return self.actor.at(agency), self.occurred_at or datetime.now(UTC)


class ResourceLineIn(Body):
    resource: Code = Field(examples=["patrol_officer"])
    quantity: StrictInt = Field(ge=1, le=10_000)

    def to_domain(self) -> ResourceLine:
        return ResourceLine(self.resource, self.quantity)


class OfficerIn(Body):
    name: Name
    badge: Code
    rank: Name | None = None

    def at(self, agency: str) -> Officer:
        return Officer(name=self.name, badge=self.badge, agency=agency, rank=self.rank)


def _each_resource_once(lines: list[ResourceLineIn]) -> list[ResourceLineIn]:
    """Two lines of one resource would be reported as two; a CAD adds them up itself."""
    named = [line.resource for line in lines]
    if len(named) != len(set(named)):
        raise ValueError("each resource may appear only once; add up its quantities")
    return lines


Lines = Annotated[list[ResourceLineIn], Field(max_length=50), AfterValidator(_each_resource_once)]


class RequestFields(Body):
    """Minneapolis; Oconomowoc IV.A; Alsip 205.4; Columbia 352.3; Kenosha IV.B.5."""

    asked_agency: Code = Field(description="The agency asked for help.")
    resources: Annotated[Lines, Field(min_length=1)]
    needed_at: Moment
    location: Text
    report_to: Text = Field(description="To whom responders report on arrival.")
    facts: Text = Field(description="Facts on which the decision to request is based.")
    staging_area: Text | None = None
    radio_channel: Name | None = None
    arrestee_transport: StrictBool = Field(
        default=False, description="Transport of arrestees is asked (Alsip 205.3)."
    )
    emergency_justification: Text | None = Field(
        default=None,
        description="Why assistance cannot wait for approval (Kenosha IV.A); approval is owed.",
    )

    def details(self) -> RequestDetails:
        return RequestDetails(
            agency=self.asked_agency,
            resources=tuple(line.to_domain() for line in self.resources),
            needed_at=self.needed_at,
            location=self.location,
            report_to=self.report_to,
            facts=self.facts,
            staging_area=self.staging_area,
            radio_channel=self.radio_channel,
            arrestee_transport=self.arrestee_transport,
            emergency_justification=self.emergency_justification,
        )


class IncidentOpen(Command):
    case_number: Code
    nature: Text
    kind: Code = Field(
        default=IncidentKind.EMERGENCY,
        description=f"One of {', '.join(IncidentKind)}. Routine services such as "
        "death_notification are refused: they are not mutual aid (Kenosha III.A.1).",
    )
    location: Text
    scene_management: Literal["assistance_only", "complete_scene_management"] | None = Field(
        default=None, description="Required for a critical incident (Columbia 352.4)."
    )
    request: RequestFields


class ActivityReport(Command):
    """Alsip 205.3.1: on-duty activity outside the jurisdiction, not part of a request."""

    case_number: Code
    nature: Text
    location: Text
    jurisdiction: Code = Field(
        description="The code of the agency in whose jurisdiction it took place; it need not "
        "be in the directory (e.g. OAK-LAWN-PD)."
    )


class AssistanceRequestCreate(Command, RequestFields):
    pass


class Approval(Command):
    pass


class ResponseCreate(Command):
    decision: Decision
    facts: Text = Field(description="Facts on which the decision to supply or decline is based.")
    resources: Lines = []
    officers: Annotated[list[OfficerIn], Field(max_length=500)] = Field(
        default=[],
        description="Officers sent, no more than the units committed (a unit is one officer "
        "at most).",
    )
    officer_in_charge: OfficerIn | None = Field(
        default=None,
        description="Needs no unit, unless also listed among the officers (under the same name).",
    )
    emergency_justification: Text | None = Field(
        default=None, description="Responding without the usual approver (Alsip 205.3)."
    )
    provides_transport: StrictBool = Field(
        default=True,
        description="Where the request asks for arrestee transport: whether this response "
        "provides it (Alsip 205.3: arrestees may be held until the asking agency arranges "
        "transport; providing it needs a supervisor).",
    )

    def details(self, agency: str) -> ResponseDetails:
        return ResponseDetails(
            decision=self.decision,
            facts=self.facts,
            resources=tuple(line.to_domain() for line in self.resources),
            officers=tuple(officer.at(agency) for officer in self.officers),
            officer_in_charge=self.officer_in_charge.at(agency) if self.officer_in_charge else None,
            emergency_justification=self.emergency_justification,
            provides_transport=self.provides_transport,
        )


class WithdrawalCreate(Command):
    """Recall (by the agency asked) or release (by the requesting agency): name resources and
    officers, or set ``everything``. A unit is one officer at most: each officer named leaves
    with a unit named, and no officer named may stay deployed without one."""

    resources: Lines = []
    officers: Annotated[list[Code], Field(max_length=500)] = []
    everything: StrictBool = False
    reason: Reason = ""

    def withdrawal(self) -> Withdrawal:
        return Withdrawal(
            resources=tuple(line.to_domain() for line in self.resources),
            badges=tuple(self.officers),
            reason=self.reason,
            everything=self.everything,
        )


class Cancellation(Command):
    reason: Reason = ""


class OfficersNamedCreate(Command):
    """Kenosha IV.C.1: officers of a response named after it, by the agency asked."""

    officers: Annotated[list[OfficerIn], Field(min_length=1, max_length=500)] = Field(
        description="Officers sent under the response whose names it did not give; no more "
        "than the units deployed still without a name."
    )

    def named(self, agency: str) -> tuple[Officer, ...]:
        return tuple(officer.at(agency) for officer in self.officers)


class InvolvementCreate(Command):
    """Kenosha IV.C.2."""

    involvement: Text
    observations: Reason = ""


class Fulfilment(Command):
    """A notification made or a report filed (Kenosha IV.B, Oconomowoc III.B, Alsip 205.3)."""

    recipients: Annotated[list[Name], Field(max_length=20)] = Field(
        default=[], description="Who was notified; all outstanding recipients when empty."
    )
    note: Reason = ""


class CorrectionCreate(Command):
    """Replace a wrong recorded fact; the original stays in the history."""

    fact: Correctable
    request_number: StrictInt | None = Field(default=None, ge=1)
    value: Text
    reason: Text


class Closure(Command):
    outcome: Text = Field(description="Kenosha IV.B.7: the outcome of the incident.")
    release_all: StrictBool = False


class WriteResult(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [examples.WRITTEN]})
    incident_id: str
    version: int = Field(description="The incident's new version; also its ETag.")
    position: int = Field(description="Log position; pass as min_position to read your write.")


RoleFilter = Literal["requester", "responder"]
