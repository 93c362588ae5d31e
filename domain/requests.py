"""One assistance request inside an incident: one agency asked, its answer and what it sent."""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from domain.errors import InvalidCommand, RuleViolation
from domain.policy import PolicyRef, PolicyViolation
from domain.values import (
    Actor,
    Decision,
    Deployment,
    Officer,
    PolicyException,
    RequestDetails,
    RequestStatus,
    ResponseDetails,
    Withdrawal,
    check_each_badge_once,
    totals,
)

ACTIVE = (RequestStatus.REQUESTED, RequestStatus.APPROVED)
COMMITTED = (RequestStatus.ACCEPTED, RequestStatus.PARTIALLY_ACCEPTED)

# A step already taken, as "what happened" and when it occurred (None: not taken).
Step = tuple[str, datetime | None]


@dataclass
class AssistanceRequest:
    number: int
    details: RequestDetails
    requested_by: Actor
    requested_at: datetime
    exception: PolicyException | None = None
    status: RequestStatus = RequestStatus.REQUESTED
    approved_by: Actor | None = None
    approved_at: datetime | None = None
    response: ResponseDetails | None = None
    responded_at: datetime | None = None
    officers: dict[str, Officer] = field(default_factory=dict)
    arrived: bool = False
    deployed: Deployment = field(default_factory=Deployment)
    cancelled_at: datetime | None = None
    withdrawn_at: datetime | None = None  # the latest recall or release
    named_at: dict[str, datetime] = field(
        default_factory=dict
    )  # by badge: with the response or later

    @property
    def agency(self) -> str:
        return self.details.agency

    def made(self) -> Step:
        return f"request {self.number} was made", self.requested_at

    def answered(self) -> Step:
        return f"request {self.number} was answered", self.responded_at

    def steps(self) -> tuple[Step, ...]:
        """What a cancellation, or a new request to the same agency, follows: every step the
        request keeps a time for."""
        return (
            self.made(),
            (f"request {self.number} was approved", self.approved_at),
            self.answered(),
            (f"request {self.number} was cancelled", self.cancelled_at),
            (f"resources under request {self.number} were withdrawn", self.withdrawn_at),
        )

    def naming(self, badges: Iterable[str]) -> list[Step]:
        """When each officer was named: what involvement or a withdrawal naming them follows
        (an officer named after the response was not on scene before it)."""
        return [
            (f"officer {b} was named under request {self.number}", self.named_at.get(b))
            for b in badges
        ]

    def is_open(self) -> bool:
        """Still asking, or still has people or equipment on scene."""
        return self.status in ACTIVE or not self.deployed.is_empty()

    def check_can_approve(self) -> None:
        """Approval may follow an emergency response (Kenosha IV.A), so it is not a status."""
        if self.approved_by is not None:
            raise RuleViolation(f"request {self.number} is already approved")
        if self.status in (RequestStatus.CANCELLED, RequestStatus.DECLINED):
            raise RuleViolation(f"request {self.number} is {self.status}")

    def check_can_respond(
        self, response: ResponseDetails, occurred_at: datetime, approval_rule: PolicyRef | None
    ) -> None:
        """``approval_rule``: the rule under which assistance waits for approval, if any
        (Kenosha IV.A); none waits under the emergency exception (approval is owed after). A
        decline renders no assistance, so it waits for nothing (Minneapolis: "The decision to
        provide assistance ... rests solely with the responding agency")."""
        if self.status not in ACTIVE:
            raise RuleViolation(f"request {self.number} is {self.status}; it was answered already")
        commits = response.decision != Decision.DECLINED
        if approval_rule and self.exception is None and commits:
            self.check_approved_before(occurred_at, approval_rule)
        check_response_matches_decision(self.details, response)

    def check_approved_before(self, moment: datetime, rule: PolicyRef) -> None:
        """Kenosha IV.A: approved "prior to the rendering or receiving of the assistance"."""
        approved_at = self.approved_at  # set with approved_by (older snapshots are replayed)
        if approved_at is None:
            raise PolicyViolation(f"request {self.number} has not been approved yet", rule)
        if approved_at > moment:
            raise PolicyViolation(
                f"request {self.number} was approved at {approved_at.isoformat()}, "
                "after this assistance",
                rule,
            )

    def approve(self, actor: Actor, occurred_at: datetime) -> None:
        self.approved_by = actor
        self.approved_at = occurred_at
        if self.status == RequestStatus.REQUESTED:
            self.status = RequestStatus.APPROVED

    def check_sent(self) -> None:
        if self.status not in COMMITTED:
            raise RuleViolation(f"request {self.number} is {self.status}; nobody was sent")

    def check_can_arrive(self) -> None:
        self.check_sent()
        if self.arrived:
            raise RuleViolation(f"the arrival under request {self.number} is already recorded")

    def check_can_cancel(self) -> None:
        if self.status not in ACTIVE:
            raise RuleViolation(
                f"request {self.number} is {self.status}; release its resources instead"
            )

    def named(self) -> set[str]:
        """The badges named under the request: the officers sent, and the officer in charge
        of the detail, who responded too (Kenosha IV.C.2)."""
        badges = set(self.officers)
        if self.response and self.response.officer_in_charge:
            badges.add(self.response.officer_in_charge.badge)
        return badges

    def check_has_officer(self, badge: str) -> None:
        if badge not in self.named():
            raise InvalidCommand(f"officer {badge} was not sent under request {self.number}")

    def check_can_name(self, officers: tuple[Officer, ...]) -> None:
        """Kenosha IV.C.1: officers named after the response, as it could have named them.
        Only under a commitment (a decline sent nobody); each officer named once (Minneapolis),
        so a badge named already, the officer in charge's too, is refused; no more officers
        than the units deployed without a name (Deployment.units: a unit is one officer at
        most), counted on scene rather than as committed, so units recalled before the naming
        are not named; and while the detail is deployed, since the officers join it and only a
        recall or release sends them home (Minneapolis). Withdrawals keep a unit per officer
        named, so this also keeps the officers named within the units committed."""
        self.check_sent()
        if not officers:
            raise InvalidCommand("name at least one officer")
        if self.deployed.is_empty():
            raise RuleViolation(
                f"nothing is deployed under request {self.number} any more; "
                "officers are named while their detail is deployed"
            )
        badges = [officer.badge for officer in officers]
        check_each_badge_once(badges)
        again = sorted(self.named().intersection(badges))
        if again:
            raise RuleViolation(f"already named under request {self.number}: {', '.join(again)}")
        unnamed = self.deployed.unnamed_units()
        if len(officers) > unnamed:
            raise InvalidCommand(
                f"request {self.number} has {max(unnamed, 0)} deployed unit(s) without a "
                f"name; {len(officers)} officer(s) cannot be named"
            )

    def cancel(self, occurred_at: datetime) -> None:
        self.status = RequestStatus.CANCELLED
        self.cancelled_at = occurred_at

    def withdraw(self, withdrawal: Withdrawal, occurred_at: datetime) -> None:
        """Recalls and releases are not ordered among themselves: the latest time is kept."""
        self.deployed.withdraw(withdrawal)
        self.withdrawn_at = max(occurred_at, self.withdrawn_at or occurred_at)

    def record_response(self, response: ResponseDetails, occurred_at: datetime) -> None:
        self.response = response
        self.responded_at = occurred_at
        self.status = RequestStatus(response.decision)
        self.deployed.resources.update(totals(response.resources))
        self.name(response.officers, occurred_at)

    def name(self, officers: tuple[Officer, ...], occurred_at: datetime) -> None:
        """Officers sent: named, and on scene until recalled or released."""
        named = {officer.badge: officer for officer in officers}
        self.officers.update(named)
        self.deployed.badges.update(named)
        self.named_at.update(dict.fromkeys(named, occurred_at))


def check_response_matches_decision(asked: RequestDetails, response: ResponseDetails) -> None:
    """The decision must agree with what is committed, so reports never contradict themselves."""
    if response.decision == Decision.DECLINED:
        if response.resources or response.officers:
            raise InvalidCommand("a declined request commits no resources or officers")
        return
    if not response.resources:
        raise InvalidCommand(f"an {response.decision} response commits at least one resource")
    check_each_badge_once(officer.badge for officer in response.officers)
    check_in_charge_is_one_person(response)
    requested, committed = totals(asked.resources), totals(response.resources)
    if len(response.officers) > committed.total():
        raise InvalidCommand(
            f"{len(response.officers)} officers named on {committed.total()} committed "
            "unit(s): a unit is one officer at most; commit a unit for each officer sent "
            "(the officer in charge, unless also listed among them, needs none)"
        )
    covers_all = all(committed[r] >= q for r, q in requested.items())
    if response.decision == Decision.ACCEPTED and not covers_all:
        raise InvalidCommand(
            "an accepted response commits everything asked; use partially_accepted"
        )
    if response.decision == Decision.PARTIALLY_ACCEPTED and covers_all:
        raise InvalidCommand("this response commits everything asked; use accepted")


def check_in_charge_is_one_person(response: ResponseDetails) -> None:
    """The officer in charge may lead from among the officers sent: then one of them, on a
    unit, as the incident view lists them (otherwise status in_charge, on no unit, never
    withdrawn). A badge names one officer, so the same badge under two names is refused, or
    the reports would name two people."""
    in_charge = response.officer_in_charge
    if in_charge is None:
        return
    for officer in response.officers:
        if officer.badge == in_charge.badge and officer.name != in_charge.name:
            raise InvalidCommand(
                f"badge {officer.badge} is named both {in_charge.name!r} (in charge) and "
                f"{officer.name!r}; a badge names one officer"
            )
