"""Agency policy profiles: who may do what, which exceptions exist, what must be notified.

A profile is data (loaded from a file by the application) and every rule cites the section of
the department policy it comes from. Each decision the aggregate takes under a profile is stored
in the event as a ``PolicyRef``, so a later version of the profile never changes how the past
reads.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from domain.errors import DomainError


class Action(StrEnum):
    REQUEST = "request"  # make an outgoing request
    APPROVE = "approve"  # approve an outgoing request (required first only by prior_approval)
    RESPOND = "respond"  # decide whether and how much to send
    RECALL = "recall"  # take back what was sent
    TRANSPORT = "transport"  # transport another agency's arrestees


class Trigger(StrEnum):
    """Moments that create obligations."""

    REQUEST_MADE = "request_made"
    RESPONSE_MADE = "response_made"
    ASSISTANCE_RENDERED = "assistance_rendered"  # a response that sends someone or something
    FEDERAL_REQUEST_MADE = "federal_request_made"
    FEDERAL_REQUEST_RECEIVED = "federal_request_received"
    EMERGENCY_RESPONSE = "emergency_response"
    TRANSPORT = "transport"
    INITIATED_ACTIVITY = "initiated_activity"


class ObligationKind(StrEnum):
    NOTIFY = "notify"
    APPROVE = "approve"
    REPORT = "report"


@dataclass(frozen=True)
class PolicyRef:
    """The rule that decided a step; stored in the event that the step produced."""

    policy_id: str
    version: int
    section: str


class PolicyViolation(DomainError):
    """A command refused by an agency's policy; ``rule`` names the section."""

    slug = "policy-violation"
    title = "The agency's policy does not allow this"

    def __init__(self, detail: str, rule: PolicyRef) -> None:
        super().__init__(f"{detail} ({rule.policy_id} v{rule.version}, {rule.section})")
        self.rule = rule


@dataclass(frozen=True)
class Authority:
    """Who may take an action: a rank at or above ``min_rank``, one of ``ranks``, or anyone
    holding one of ``roles``. With none of them set, any member of the agency may."""

    section: str
    min_rank: str | None = None
    ranks: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()

    def is_open_to_all(self) -> bool:
        return self.min_rank is None and not self.ranks and not self.roles


@dataclass(frozen=True)
class ObligationRule:
    """``recipient_roles``: the role that makes someone one of the recipients. An actor holding
    it is not told of their own step (Kenosha IV.B: the Patrol Shift Commander, "if the Patrol
    Shift Commander is not the person making the report")."""

    trigger: Trigger
    kind: ObligationKind
    recipients: tuple[str, ...]
    section: str
    recipient_roles: Mapping[str, str] = field(default_factory=dict)

    def recipients_besides(self, roles: tuple[str, ...]) -> tuple[str, ...]:
        held = set(map(normalize, roles))
        return tuple(r for r in self.recipients if self.recipient_roles.get(r) not in held)


@dataclass(frozen=True)
class ExceptionRule:
    """When a step may go ahead without the usual authority, and what it then owes."""

    section: str
    owes: tuple[ObligationRule, ...] = ()


@dataclass(frozen=True)
class PriorApproval:
    """Assistance waits until the request is approved, and a request made by someone who may
    approve it is approved as it is made (Kenosha IV.A: "made or approved by a supervisor")."""

    section: str  # cited when assistance would come before the approval
    made_by_approver: str  # cited as the authority of a request approved as it is made


@dataclass(frozen=True)
class Routing:
    primary: str
    fallback: tuple[str, ...]
    section: str


@dataclass(frozen=True)
class PolicyProfile:
    policy_id: str
    version: int
    effective: date
    title: str
    ranks: tuple[str, ...]  # lowest first
    authorities: dict[Action, Authority]
    default_section: str
    obligations: tuple[ObligationRule, ...] = ()
    prior_approval: PriorApproval | None = None  # None: the policy has no approval step
    emergency_request: ExceptionRule | None = None  # assistance before approval (Kenosha IV.A)
    emergency_response: ExceptionRule | None = None  # officers respond, then notify (Alsip 205.3)
    mou_partners: tuple[str, ...] = ()  # no individual approval needed (Alsip 205.3)
    mou_section: str = ""
    routing: Routing | None = None
    not_mutual_aid: tuple[str, ...] = ()
    not_mutual_aid_section: str = ""
    officer_in_charge_section: str | None = None  # its detail stays under its own supervisor
    # Agencies answering its requests keep their own officer in charge (Minneapolis).
    visitors_in_charge_section: str | None = None
    # Any member may ask a federal agency in an investigative case (Oconomowoc III.B.2).
    federal_investigation_section: str | None = None
    critical_incident_section: str | None = None

    def ref(self, section: str) -> PolicyRef:
        return PolicyRef(self.policy_id, self.version, section)

    def rule_for(self, action: Action) -> PolicyRef:
        authority = self.authorities.get(action)
        return self.ref(authority.section if authority else self.default_section)

    def permits(self, action: Action, rank: str, roles: tuple[str, ...]) -> bool:
        authority = self.authorities.get(action)
        if authority is None or authority.is_open_to_all():
            return True
        rank = normalize(rank)
        if rank in authority.ranks or set(map(normalize, roles)) & set(authority.roles):
            return True
        return authority.min_rank is not None and self.rank_at_least(rank, authority.min_rank)

    def authorize(self, action: Action, rank: str, roles: tuple[str, ...]) -> PolicyRef:
        """The rule that allows the action, or PolicyViolation naming the rule that forbids it."""
        rule = self.rule_for(action)
        if not self.permits(action, rank, roles):
            raise PolicyViolation(f"{describe(self.authorities[action])} may {action}", rule)
        return rule

    def rank_at_least(self, rank: str, minimum: str) -> bool:
        order = {name: level for level, name in enumerate(self.ranks)}
        return rank in order and order[rank] >= order[minimum]

    def owed_on(self, trigger: Trigger) -> tuple[ObligationRule, ...]:
        return tuple(rule for rule in self.obligations if rule.trigger == trigger)


def normalize(word: str) -> str:
    return word.strip().lower().replace(" ", "_").replace("-", "_")


def describe(authority: Authority) -> str:
    who = [f"rank {authority.min_rank} or higher"] if authority.min_rank else []
    who += [*authority.ranks, *authority.roles]
    return "only " + " or ".join(who)
