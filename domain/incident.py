"""The mutual aid incident aggregate.

Public methods are commands: they check every rule, then call one private ``@event`` method.
Event methods only change state, because they run again each time the incident is rebuilt.
Topics are explicit so that moving this module never breaks stored events.
"""

from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, cast
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event
from eventsourcing.domain import Snapshot as StateSnapshot

from domain.corrections import Correctable, check_correction
from domain.directory import PolicyBook
from domain.errors import (
    IncidentAlreadyClosed,
    InvalidCommand,
    NotAuthorized,
    ObligationNotFound,
    RequestNotFound,
    ResourcesStillDeployed,
    RuleViolation,
)
from domain.obligations import ObligationState, check_fulfilment, concerns
from domain.policy import PolicyRef, Trigger
from domain.requests import AssistanceRequest, Step
from domain.rulebook import (
    Decided,
    Owed,
    approval_required,
    check_is_mutual_aid,
    check_scene_management,
    decide_approval,
    decide_recall,
    decide_request,
    decide_response,
    owed_on,
)
from domain.values import (
    Actor,
    IncidentKind,
    Obligation,
    Officer,
    PolicyException,
    RequestDetails,
    RequestStatus,
    ResponseDetails,
    Withdrawal,
)

CASE_NAMESPACE = UUID("5b0f3c2e-8d1a-4f57-9a41-6d2f0b8e7c15")


class IncidentStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class Incident(Aggregate):
    TOPIC = "mutual-aid:Incident"

    class Event(Aggregate.Event):
        """Every event of the incident is a step with the time it occurred. ``apply`` runs
        after each event's own change, on every replay too (the opening's included), so the
        incident keeps its latest step's time however the step came: a close follows it."""

        TOPIC = "mutual-aid:Incident.Event"
        if TYPE_CHECKING:  # each event declares it; a field here would move it in stored JSON
            occurred_at: datetime

        def apply(self, aggregate: Any) -> None:
            aggregate.last_step_at = max(aggregate.last_step_at, self.occurred_at)

    class Created(Aggregate.Created):
        TOPIC = "mutual-aid:Incident.Created"

    class IncidentOpened(Aggregate.Created):
        TOPIC = "mutual-aid:IncidentOpened"
        case_number: str
        nature: str
        kind: IncidentKind
        location: str
        scene_management: str | None
        actor: Actor
        occurred_at: datetime

    class AssistanceRequested(Event):
        TOPIC = "mutual-aid:AssistanceRequested"
        number: int
        details: RequestDetails
        authority: PolicyRef
        exception: PolicyException | None
        obligations: tuple[Obligation, ...]
        actor: Actor
        occurred_at: datetime

    class RequestApproved(Event):
        TOPIC = "mutual-aid:RequestApproved"
        number: int
        authority: PolicyRef
        actor: Actor
        occurred_at: datetime

    class ResponseRecorded(Event):
        TOPIC = "mutual-aid:ResponseRecorded"
        number: int
        response: ResponseDetails
        authority: PolicyRef
        exception: PolicyException | None
        obligations: tuple[Obligation, ...]
        actor: Actor
        occurred_at: datetime

    class ResourcesRecalled(Event):
        TOPIC = "mutual-aid:ResourcesRecalled"
        number: int
        withdrawal: Withdrawal
        authority: PolicyRef
        actor: Actor
        occurred_at: datetime

    class ResourcesReleased(Event):
        TOPIC = "mutual-aid:ResourcesReleased"
        number: int
        withdrawal: Withdrawal
        actor: Actor
        occurred_at: datetime

    class ResourcesArrived(Event):
        """The responders reported to the person named in the request."""

        TOPIC = "mutual-aid:ResourcesArrived"
        number: int
        actor: Actor
        occurred_at: datetime

    class RequestCancelled(Event):
        TOPIC = "mutual-aid:RequestCancelled"
        number: int
        reason: str
        actor: Actor
        occurred_at: datetime

    class InvolvementRecorded(Event):
        """Kenosha IV.C.2: details of involvement and observations of each officer."""

        TOPIC = "mutual-aid:InvolvementRecorded"
        number: int
        badge: str
        involvement: str
        observations: str
        actor: Actor
        occurred_at: datetime

    class OfficersNamed(Event):
        """Kenosha IV.C.1: officers of a response named after it. A CAD often records the
        response before it knows who goes."""

        TOPIC = "mutual-aid:OfficersNamed"
        number: int
        officers: tuple[Officer, ...]
        actor: Actor
        occurred_at: datetime

    class ActivityOutsideJurisdictionReported(Event):
        """Alsip 205.3.1: on-duty activity in another jurisdiction, not part of a request."""

        TOPIC = "mutual-aid:ActivityOutsideJurisdictionReported"
        jurisdiction: str
        obligations: tuple[Obligation, ...]
        actor: Actor
        occurred_at: datetime

    class ObligationFulfilled(Event):
        """A notification made or a report filed, as a policy requires (Kenosha IV.B, ...)."""

        TOPIC = "mutual-aid:ObligationFulfilled"
        number: int
        recipients: tuple[str, ...]
        note: str
        actor: Actor
        occurred_at: datetime

    class FactCorrected(Event):
        """A correcting event: the recorded fact stands in history; readers use this value."""

        TOPIC = "mutual-aid:FactCorrected"
        fact: str
        number: int | None
        value: str
        reason: str
        actor: Actor
        occurred_at: datetime

    class IncidentClosed(Event):
        TOPIC = "mutual-aid:IncidentClosed"
        outcome: str
        actor: Actor
        occurred_at: datetime

    # Version 2 kept when the incident was closed, when each request was approved and
    # answered, and when each obligation was owed; version 3 keeps when the latest step
    # occurred, and when each request was cancelled and last had resources withdrawn.
    class_version = 3

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        """No older version keeps the time of the latest step, and an arrival, a recall, a
        note, a notice or a correction leaves no time in the state to find it by: only the
        events say it, so the snapshot is refused and the load replays them (app/ledger.py)."""
        raise OutdatedSnapshot("versions before 3 hold no time for the latest step")

    upcast_v2_v3 = upcast_v1_v2

    class Snapshot(StateSnapshot):
        """The incident's state at one version, so that loading a long incident replays only
        the events after it. JSON has no integer keys: requests and obligations are kept as
        lists, and the enums come back from their values."""

        TOPIC = "mutual-aid:Incident.Snapshot"

        @classmethod
        def take(cls, aggregate: Any) -> "Incident.Snapshot":
            taken = super().take(aggregate)
            state = {
                **taken.state,
                "requests": list(aggregate.requests.values()),
                "obligations": list(aggregate.obligations.values()),
            }
            return cls(
                originator_id=taken.originator_id,
                originator_version=taken.originator_version,
                timestamp=taken.timestamp,
                topic=taken.topic,
                state=state,
            )

        def mutate(self, _: None) -> "Incident":
            incident = cast(Incident, super().mutate(None))
            incident.kind = IncidentKind(incident.kind)
            incident.status = IncidentStatus(incident.status)
            incident.requests = {r.number: r for r in self.state["requests"]}
            incident.obligations = {o.obligation.number: o for o in self.state["obligations"]}
            return incident

    @staticmethod
    def create_id(requesting_agency: str, case_number: str) -> UUID:
        """One incident per case number of an agency, so a retried open cannot fork it."""
        return uuid5(CASE_NAMESPACE, f"{requesting_agency}\x1f{case_number}")

    # -- commands ------------------------------------------------------------------------

    @classmethod
    def open(
        cls,
        *,
        case_number: str,
        nature: str,
        kind: str,
        location: str,
        request: RequestDetails,
        actor: Actor,
        occurred_at: datetime,
        book: PolicyBook,
        scene_management: str | None = None,
    ) -> "Incident":
        """Open an incident by asking the first agency for help."""
        check_aware(occurred_at)
        check_not_own_agency(request, actor)
        check_is_mutual_aid(book, actor.agency, kind, request.agency)
        check_scene_management(book.profile(actor.agency), kind, scene_management)
        decided = decide_request(book, actor, request, IncidentKind(kind))
        incident_id = cls.create_id(actor.agency, case_number)
        incident = cls._open(
            incident_id,
            case_number,
            nature,
            IncidentKind(kind),
            location,
            scene_management,
            actor,
            occurred_at,
        )
        incident.record_request(request, decided, actor, occurred_at)
        return incident

    @classmethod
    def report_activity(
        cls,
        *,
        case_number: str,
        nature: str,
        location: str,
        jurisdiction: str,
        actor: Actor,
        occurred_at: datetime,
        book: PolicyBook,
    ) -> "Incident":
        """Alsip 205.3.1: the supervisor and dispatch are told of activity outside the
        jurisdiction; the record keeps that obligation open until they are. The jurisdiction
        need not be in the directory: the duty holds wherever the officer went."""
        check_aware(occurred_at)
        if jurisdiction == actor.agency:
            raise InvalidCommand("activity in the agency's own jurisdiction is not reported here")
        profile = book.profile(actor.agency)
        owed = owed_on(profile, actor.agency, Trigger.INITIATED_ACTIVITY, actor.roles)
        incident_id = cls.create_id(actor.agency, case_number)
        incident = cls._open(
            incident_id,
            case_number,
            nature,
            IncidentKind.INITIATED_ACTIVITY,
            location,
            None,
            actor,
            occurred_at,
        )
        obligations = incident.number_obligations(owed)
        incident._report_activity(jurisdiction, obligations, actor, occurred_at)
        return incident

    def request_assistance(
        self, request: RequestDetails, actor: Actor, occurred_at: datetime, book: PolicyBook
    ) -> None:
        """Ask one more agency (Kenosha IV.D: the Sheriff first, Pleasant Prairie next)."""
        self.check_requester(actor, occurred_at)
        check_not_own_agency(request, actor)
        check_is_mutual_aid(book, actor.agency, self.kind, request.agency)
        earlier = [r for r in self.requests.values() if r.agency == request.agency]
        if any(r.is_open() for r in earlier):
            raise RuleViolation(f"{request.agency} already has an open request on this incident")
        # Asked again only once its last request ended (declined, cancelled, all withdrawn):
        # dated earlier, both would be open at once in the as-of view.
        check_follows(occurred_at, (step for r in earlier for step in r.steps()))
        self.record_request(
            request, decide_request(book, actor, request, self.kind), actor, occurred_at
        )

    def approve(self, number: int, actor: Actor, occurred_at: datetime, book: PolicyBook) -> None:
        self.check_requester(actor, occurred_at)
        request = self.request(number, actor.agency)
        request.check_can_approve()
        # Follows its request only, not a response recorded first under an emergency (Kenosha
        # IV.A's exception; Alsip 205.3 and Columbia 352.2 are the responder's and owe only a
        # notice). IV.A wants approval "prior to the rendering or receiving of the assistance"
        # and the exception only spares the wait for it, so a supervisor's approval given by
        # radio before the response and entered afterwards meets the rule, and occurred_at is
        # when it was given. Alsip 205.4 and Columbia 352.3 have a supervisor told first, and
        # an approval recorded there dates from then, before the assistance as well.
        check_follows(occurred_at, [request.made()])
        self._approve(number, decide_approval(book, actor), actor, occurred_at)

    def respond(
        self,
        number: int,
        response: ResponseDetails,
        actor: Actor,
        occurred_at: datetime,
        book: PolicyBook,
    ) -> None:
        """Oconomowoc V.B: a response exists only as the answer to a request."""
        if number not in self.requests:
            raise RequestNotFound(
                f"there is no request {number} to answer: assistance is given only when "
                "requested, never offered (Oconomowoc V.B)"
            )
        request = self.check_responder(number, actor, occurred_at)
        approval_rule = approval_required(book, request.requested_by)
        request.check_can_respond(response, occurred_at, approval_rule)
        check_follows(occurred_at, [request.made()])
        check_own_officers(response.officers, actor)
        decided = decide_response(
            book,
            actor,
            self.requesting_agency,
            request.details,
            response,
        )
        self._respond(
            number,
            response,
            decided.authority,
            decided.exception,
            self.number_obligations(decided.owed, number),
            actor,
            occurred_at,
        )

    def recall(
        self,
        number: int,
        withdrawal: Withdrawal,
        actor: Actor,
        occurred_at: datetime,
        book: PolicyBook,
    ) -> None:
        """Minneapolis: the responding official may recall all or part at any time."""
        request = self.check_responder(number, actor, occurred_at)
        resolved = resolve_withdrawal(request, withdrawal)
        check_follows(occurred_at, [request.answered(), *request.naming(resolved.badges)])
        self._recall(number, resolved, decide_recall(book, actor), actor, occurred_at)

    def release(
        self, number: int, withdrawal: Withdrawal, actor: Actor, occurred_at: datetime
    ) -> None:
        """The requesting agency sends resources home (it manages the incident: Minneapolis)."""
        self.check_requester(actor, occurred_at)
        request = self.request(number, actor.agency)
        resolved = resolve_withdrawal(request, withdrawal)
        check_follows(occurred_at, [request.answered(), *request.naming(resolved.badges)])
        self._release(number, resolved, actor, occurred_at)

    def record_arrival(self, number: int, actor: Actor, occurred_at: datetime) -> None:
        """Either side may record that the responders arrived; once per request."""
        self.check_writable(occurred_at)
        request = self.request(number, actor.agency)
        request.check_can_arrive()
        check_follows(occurred_at, [request.answered()])
        self._arrive(number, actor, occurred_at)

    def cancel(self, number: int, reason: str, actor: Actor, occurred_at: datetime) -> None:
        self.check_requester(actor, occurred_at)
        request = self.request(number, actor.agency)
        request.check_can_cancel()
        check_follows(occurred_at, request.steps())
        self._cancel(number, reason, actor, occurred_at)

    def name_officers(
        self, number: int, officers: tuple[Officer, ...], actor: Actor, occurred_at: datetime
    ) -> None:
        """Kenosha IV.C.1: the full report names all officers responding. The agency asked
        names its own (Minneapolis: they stay under its direction), as its response could have
        named them; see AssistanceRequest.check_can_name. Any of its members may, as for
        involvement: the profiles' authorities govern committing resources, which naming
        does not."""
        request = self.check_responder(number, actor, occurred_at)
        check_own_officers(officers, actor)
        request.check_can_name(officers)
        check_follows(occurred_at, [request.answered()])
        self._name_officers(number, officers, actor, occurred_at)

    def record_involvement(
        self,
        number: int,
        badge: str,
        involvement: str,
        observations: str,
        actor: Actor,
        occurred_at: datetime,
    ) -> None:
        """Either side may write it: the officer's own agency or the one it served. Allowed
        after close, as notices and corrections are: officers write up their involvement and
        observations (Kenosha IV.C.2) after the incident, and the full report needs them."""
        check_aware(occurred_at)
        request = self.request(number, actor.agency)
        request.check_has_officer(badge)
        check_follows(occurred_at, [request.answered(), *request.naming([badge])])
        self._record_involvement(number, badge, involvement, observations, actor, occurred_at)

    def fulfil(
        self,
        number: int,
        recipients: tuple[str, ...],
        note: str,
        actor: Actor,
        occurred_at: datetime,
    ) -> None:
        """Record a notification made or a report filed. Allowed after close: reporting an
        incident usually finishes after it."""
        check_aware(occurred_at)
        state = self.obligations.get(number)
        if state is None or not self.concerns(state.obligation, actor.agency):
            raise ObligationNotFound(f"incident has no obligation {number}")
        if actor.agency != state.obligation.party:
            raise NotAuthorized(f"obligation {number} is owed by {state.obligation.party}")
        covered = check_fulfilment(state, recipients)
        check_follows(occurred_at, [(f"obligation {number} was owed", state.owed_at)])
        self._fulfil(number, covered, note, actor, occurred_at)

    def correct(
        self,
        fact: Correctable,
        number: int | None,
        value: str,
        reason: str,
        actor: Actor,
        occurred_at: datetime,
    ) -> None:
        """Allowed after close: the record must be right even when the incident is over. The
        agency that recorded the fact corrects it."""
        check_aware(occurred_at)
        check_correction(fact, number, value, reason)
        request = None if number is None else self.request(number, actor.agency)
        fact_at = self.fact_occurred_at(fact, request)
        owner = request.agency if request and fact.part == "response" else self.requesting_agency
        if actor.agency != owner:
            raise NotAuthorized(f"only {owner}, which recorded it, may correct {fact}")
        check_not_before(occurred_at, fact_at, f"{fact} occurred")
        self._correct(str(fact), number, value, reason, actor, occurred_at)

    def close_incident(
        self, outcome: str, release_all: bool, actor: Actor, occurred_at: datetime
    ) -> None:
        """Close with its outcome (Kenosha IV.B.7); ``release_all`` sends everyone home first,
        in the same step, so a close never leaves anyone deployed."""
        self.check_requester(actor, occurred_at)
        check_not_before(occurred_at, self.last_step_at, "the incident's latest step")
        deployed = [r for r in self.requests.values() if not r.deployed.is_empty()]
        if deployed and not release_all:
            numbers = ", ".join(str(r.number) for r in deployed)
            raise ResourcesStillDeployed(
                f"resources are still deployed under request(s) {numbers}; "
                "release them or close with release_all"
            )
        for request in deployed:
            everything = request.deployed.as_withdrawal("incident closed")
            self._release(request.number, everything, actor, occurred_at)
        for request in self.requests.values():
            if request.status in (RequestStatus.REQUESTED, RequestStatus.APPROVED):
                self._cancel(request.number, "incident closed", actor, occurred_at)
        self._close(outcome, actor, occurred_at)

    def record_request(
        self, details: RequestDetails, decided: Decided, actor: Actor, occurred_at: datetime
    ) -> None:
        number = len(self.requests) + 1
        obligations = self.number_obligations(decided.owed, number)
        self._request(
            number, details, decided.authority, decided.exception, obligations, actor, occurred_at
        )

    def number_obligations(
        self, owed: tuple[Owed, ...], request_number: int | None = None
    ) -> tuple[Obligation, ...]:
        first = len(self.obligations) + 1
        return tuple(
            Obligation(first + n, o.party, o.kind, o.recipients, o.rule, request_number)
            for n, o in enumerate(owed)
        )

    # -- queries and guards ----------------------------------------------------------------

    def request(self, number: int, agency: str) -> AssistanceRequest:
        """The request as ``agency`` knows it: an agency asked knows only its own requests,
        so another's answers as if it did not exist (domain/visibility.py)."""
        found = self.requests.get(number)
        if found is None or agency not in (self.requesting_agency, found.agency):
            raise RequestNotFound(f"incident has no request {number}")
        return found

    def concerns(self, obligation: Obligation, agency: str) -> bool:
        request = self.requests.get(obligation.request_number or 0)
        asked = request.agency if request else None
        return concerns(agency, self.requesting_agency, obligation.party, asked)

    def asked(self) -> dict[str, RequestStatus]:
        """Each agency asked, with the status of its latest request."""
        return {r.agency: r.status for r in self.requests.values()}

    def is_party(self, agency: str) -> bool:
        return agency == self.requesting_agency or any(
            r.agency == agency for r in self.requests.values()
        )

    def check_writable(self, occurred_at: datetime) -> None:
        if self.status == IncidentStatus.CLOSED:
            raise IncidentAlreadyClosed("the incident is closed; nothing more can be recorded")
        check_aware(occurred_at)
        check_not_before(occurred_at, self.opened_at, "the incident was opened")

    def check_requester(self, actor: Actor, occurred_at: datetime) -> None:
        self.check_writable(occurred_at)
        if actor.agency != self.requesting_agency:
            raise NotAuthorized("only the requesting agency may do this")

    def fact_occurred_at(self, fact: Correctable, request: AssistanceRequest | None) -> datetime:
        """When the fact a correction replaces occurred: a correction dated earlier would show
        in the as-of view before its fact. Only a recorded fact is corrected: a correction
        stored before the fact would be overwritten by it, and the reports would list a change
        that never took effect. The other facts are recorded with the incident or the request
        (an optional one left out stays left out, so supplying it contradicts nothing)."""
        if fact == Correctable.OUTCOME:
            if self.closed_at is None:
                raise RuleViolation("there is no outcome to correct before the incident is closed")
            return self.closed_at
        if request is None:  # the incident's own facts (check_correction)
            return self.opened_at
        if fact.part == "request":
            return request.requested_at
        if request.responded_at is None:
            raise RuleViolation(f"request {request.number} has no response to correct yet")
        return request.responded_at

    def check_responder(
        self, number: int, actor: Actor, occurred_at: datetime
    ) -> AssistanceRequest:
        self.check_writable(occurred_at)
        request = self.request(number, actor.agency)
        if actor.agency != request.agency:
            raise NotAuthorized(f"only {request.agency}, the agency asked, may do this")
        return request

    # -- events: state changes only, no checks ---------------------------------------------

    @classmethod
    def _open(
        cls,
        incident_id: UUID,
        case_number: str,
        nature: str,
        kind: IncidentKind,
        location: str,
        scene_management: str | None,
        actor: Actor,
        occurred_at: datetime,
    ) -> "Incident":
        return cls._create(
            cls.IncidentOpened,
            id=incident_id,
            case_number=case_number,
            nature=nature,
            kind=kind,
            location=location,
            scene_management=scene_management,
            actor=actor,
            occurred_at=occurred_at,
        )

    @event(IncidentOpened)
    def __init__(
        self,
        case_number: str,
        nature: str,
        kind: IncidentKind,
        location: str,
        scene_management: str | None,
        actor: Actor,
        occurred_at: datetime,
    ) -> None:
        self.case_number = case_number
        self.nature = nature
        self.kind = IncidentKind(kind)
        self.location = location
        self.scene_management = scene_management
        self.opened_by = actor
        self.opened_at = occurred_at
        self.last_step_at = occurred_at
        self.requesting_agency = actor.agency
        self.status = IncidentStatus.OPEN
        self.outcome: str | None = None
        self.closed_at: datetime | None = None
        self.requests: dict[int, AssistanceRequest] = {}
        self.obligations: dict[int, ObligationState] = {}

    @event(AssistanceRequested)
    def _request(
        self,
        number: int,
        details: RequestDetails,
        authority: PolicyRef,
        exception: PolicyException | None,
        obligations: tuple[Obligation, ...],
        actor: Actor,
        occurred_at: datetime,
    ) -> None:
        self.requests[number] = AssistanceRequest(number, details, actor, occurred_at, exception)
        self.owe(obligations, occurred_at)

    @event(RequestApproved)
    def _approve(
        self, number: int, authority: PolicyRef, actor: Actor, occurred_at: datetime
    ) -> None:
        self.requests[number].approve(actor, occurred_at)
        for state in self.obligations.values():
            if state.is_approval_of(number):
                state.outstanding.clear()

    @event(ResponseRecorded)
    def _respond(
        self,
        number: int,
        response: ResponseDetails,
        authority: PolicyRef,
        exception: PolicyException | None,
        obligations: tuple[Obligation, ...],
        actor: Actor,
        occurred_at: datetime,
    ) -> None:
        self.requests[number].record_response(response, occurred_at)
        self.owe(obligations, occurred_at)

    @event(ResourcesRecalled)
    def _recall(
        self,
        number: int,
        withdrawal: Withdrawal,
        authority: PolicyRef,
        actor: Actor,
        occurred_at: datetime,
    ) -> None:
        self.requests[number].withdraw(withdrawal, occurred_at)

    @event(ResourcesReleased)
    def _release(
        self, number: int, withdrawal: Withdrawal, actor: Actor, occurred_at: datetime
    ) -> None:
        self.requests[number].withdraw(withdrawal, occurred_at)

    @event(ResourcesArrived)
    def _arrive(self, number: int, actor: Actor, occurred_at: datetime) -> None:
        self.requests[number].arrived = True

    @event(RequestCancelled)
    def _cancel(self, number: int, reason: str, actor: Actor, occurred_at: datetime) -> None:
        self.requests[number].cancel(occurred_at)

    @event(OfficersNamed)
    def _name_officers(
        self, number: int, officers: tuple[Officer, ...], actor: Actor, occurred_at: datetime
    ) -> None:
        self.requests[number].name(officers, occurred_at)

    @event(InvolvementRecorded)
    def _record_involvement(
        self,
        number: int,
        badge: str,
        involvement: str,
        observations: str,
        actor: Actor,
        occurred_at: datetime,
    ) -> None:
        """Reports read involvement from the projection; the aggregate needs nothing."""

    @event(ActivityOutsideJurisdictionReported)
    def _report_activity(
        self,
        jurisdiction: str,
        obligations: tuple[Obligation, ...],
        actor: Actor,
        occurred_at: datetime,
    ) -> None:
        self.owe(obligations, occurred_at)

    @event(ObligationFulfilled)
    def _fulfil(
        self,
        number: int,
        recipients: tuple[str, ...],
        note: str,
        actor: Actor,
        occurred_at: datetime,
    ) -> None:
        self.obligations[number].outstanding.difference_update(recipients)

    def owe(self, obligations: tuple[Obligation, ...], occurred_at: datetime) -> None:
        for obligation in obligations:
            self.obligations[obligation.number] = ObligationState.owed(obligation, occurred_at)

    @event(FactCorrected)
    def _correct(
        self,
        fact: str,
        number: int | None,
        value: str,
        reason: str,
        actor: Actor,
        occurred_at: datetime,
    ) -> None:
        """Reports read corrected facts from the projection; no rule depends on them."""

    @event(IncidentClosed)
    def _close(self, outcome: str, actor: Actor, occurred_at: datetime) -> None:
        self.status = IncidentStatus.CLOSED
        self.outcome = outcome
        self.closed_at = occurred_at


class OutdatedSnapshot(ValueError):
    """A snapshot an older class version took, which its upcaster cannot bring up to date:
    loads replay the events instead (expected after an upgrade, until newer snapshots)."""


def check_aware(moment: datetime) -> None:
    if moment.tzinfo is None:
        raise InvalidCommand("times must carry a UTC offset")


def check_not_before(occurred_at: datetime, earliest: datetime, what: str) -> None:
    if occurred_at < earliest:
        raise InvalidCommand(f"occurred_at is before {what} ({earliest.isoformat()})")


def check_follows(occurred_at: datetime, steps: Iterable[Step]) -> None:
    """A step is not dated before the steps it follows, or durations in the reports would be
    negative and the as-of view by occurred_at would show it first. The latest is named."""
    taken = [(at, what) for what, at in steps if at is not None]
    if taken:
        at, what = max(taken)
        check_not_before(occurred_at, at, what)


def check_own_officers(officers: Iterable[Officer], actor: Actor) -> None:
    if any(officer.agency != actor.agency for officer in officers):
        raise NotAuthorized("an agency commits only its own officers")


def check_not_own_agency(request: RequestDetails, actor: Actor) -> None:
    if request.agency == actor.agency:
        raise InvalidCommand("an agency cannot ask itself for mutual aid")


def resolve_withdrawal(request: AssistanceRequest, withdrawal: Withdrawal) -> Withdrawal:
    """An order for everything becomes the concrete list, so the event says who went home."""
    if withdrawal.everything:
        if withdrawal.resources or withdrawal.badges:
            raise InvalidCommand("name what to withdraw, or everything, not both")
        if request.deployed.is_empty():
            raise InvalidCommand(f"nothing is deployed under request {request.number}")
        return request.deployed.as_withdrawal(withdrawal.reason)
    if not withdrawal.resources and not withdrawal.badges:
        raise InvalidCommand("name the resources or officers to withdraw, or everything")
    request.deployed.check_can_withdraw(withdrawal)
    return withdrawal
