"""Value objects carried by incident events. Frozen, so an event can never change after it
is stored; tuples, not lists, for the same reason."""

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from domain.errors import InvalidCommand
from domain.policy import ObligationKind, PolicyRef


class IncidentKind(StrEnum):
    """Oconomowoc II, III.B, IV.C; Columbia 352.4."""

    EMERGENCY = "emergency"
    INVESTIGATIVE = "investigative"
    FEDERAL = "federal"
    CRITICAL_INCIDENT = "critical_incident"
    INITIATED_ACTIVITY = "initiated_activity"  # Alsip 205.3.1: not a mutual aid request


MUTUAL_AID_KINDS = tuple(k for k in IncidentKind if k != IncidentKind.INITIATED_ACTIVITY)


class Decision(StrEnum):
    """Minneapolis: the responding agency alone decides whether and how much to send."""

    ACCEPTED = "accepted"
    PARTIALLY_ACCEPTED = "partially_accepted"
    DECLINED = "declined"


class RequestStatus(StrEnum):
    REQUESTED = "requested"
    APPROVED = "approved"
    ACCEPTED = "accepted"
    PARTIALLY_ACCEPTED = "partially_accepted"
    DECLINED = "declined"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class Actor:
    """Who did something. ``agency`` always comes from the caller's credentials; ``roles``
    are duties held besides the rank (watch_commander, oic, communications_center, ...)."""

    agency: str
    name: str
    rank: str
    badge: str | None = None
    roles: tuple[str, ...] = ()


@dataclass(frozen=True)
class ResourceLine:
    resource: str
    quantity: int

    def __post_init__(self) -> None:
        if self.quantity <= 0:
            raise InvalidCommand(f"quantity of {self.resource!r} must be positive")


@dataclass(frozen=True)
class Officer:
    name: str
    badge: str
    agency: str
    rank: str | None = None


@dataclass(frozen=True)
class RequestDetails:
    """What a request must carry: Minneapolis (amount and type, nature, when and where, to whom
    responders report); Alsip 205.4 / Columbia 352.3 (staging, radio); Kenosha IV.B.5 (facts)."""

    agency: str
    resources: tuple[ResourceLine, ...]
    needed_at: datetime
    location: str
    report_to: str
    facts: str
    staging_area: str | None = None
    radio_channel: str | None = None
    arrestee_transport: bool = False  # Alsip 205.3, Columbia 352.2
    emergency_justification: str | None = None  # why assistance cannot wait for approval


@dataclass(frozen=True)
class ResponseDetails:
    """What the asked agency commits. ``facts``: why it supplied or declined (Kenosha IV.B.5);
    ``officer_in_charge``: its own supervisor over its detail (Minneapolis)."""

    decision: Decision
    facts: str
    resources: tuple[ResourceLine, ...] = ()
    officers: tuple[Officer, ...] = ()
    officer_in_charge: Officer | None = None
    emergency_justification: str | None = None  # why it responds without the usual authority
    # Where the request asks for arrestee transport: whether this response provides it. Alsip
    # 205.3 holds arrestees until the asking agency arranges transport, and transports only
    # exceptionally, with a supervisor's approval. (Absent from older events: it was implied.)
    provides_transport: bool = True


@dataclass(frozen=True)
class Withdrawal:
    """Part of a commitment taken back: by recall (responder) or release (requester).
    ``everything`` is only an order; the stored event always lists what was withdrawn."""

    resources: tuple[ResourceLine, ...] = ()
    badges: tuple[str, ...] = ()
    reason: str = ""
    everything: bool = False


@dataclass
class Deployment:
    """What is on scene under one request; mutable state of the aggregate, never stored."""

    resources: Counter[str] = field(default_factory=Counter)
    badges: set[str] = field(default_factory=set)

    def is_empty(self) -> bool:
        return not +self.resources and not self.badges

    def units(self) -> int:
        """Units on scene. Resource kinds are free text and do not tell officers from
        equipment, so any unit may be a named officer's: a unit is one officer at most (the
        full report's units_not_named, Kenosha IV.C.1). Withdrawals and namings keep the
        named officers deployed from outnumbering the units deployed."""
        return (+self.resources).total()

    def unnamed_units(self) -> int:
        return self.units() - len(self.badges)

    def as_withdrawal(self, reason: str) -> Withdrawal:
        lines = tuple(ResourceLine(r, q) for r, q in sorted(self.resources.items()) if q > 0)
        return Withdrawal(lines, tuple(sorted(self.badges)), reason)

    def check_can_withdraw(self, withdrawal: Withdrawal) -> None:
        """Never more than is deployed (Minneapolis); an officer named leaves with a unit, and
        no officer named stays without one (see units). ``everything`` needs no check: it
        withdraws every unit and every officer."""
        check_each_badge_once(withdrawal.badges)
        wanted = totals(withdrawal.resources)
        for resource, quantity in wanted.items():
            if quantity > self.resources[resource]:
                raise InvalidCommand(
                    f"cannot withdraw {quantity} {resource!r}: {self.resources[resource]} deployed"
                )
        missing = set(withdrawal.badges) - self.badges
        if missing:
            raise InvalidCommand(f"officers not deployed: {', '.join(sorted(missing))}")
        units, leaving = wanted.total(), len(withdrawal.badges)
        if leaving > units:
            raise InvalidCommand(
                f"{leaving} named officer(s) withdrawn with {units} unit(s): each officer "
                "leaving takes a unit, so name the units that go with them"
            )
        staying, left = len(self.badges) - leaving, self.units() - units
        if staying > left:
            raise InvalidCommand(
                f"this would leave {staying} named officer(s) deployed on {left} unit(s); "
                "name the officers who leave"
            )

    def withdraw(self, withdrawal: Withdrawal) -> None:
        self.resources.subtract(totals(withdrawal.resources))
        self.badges.difference_update(withdrawal.badges)


def check_each_badge_once(badges: Iterable[str]) -> None:
    """A badge names one officer: listed twice, the stored event and the reports would
    name that officer twice."""
    listed = list(badges)
    if len(listed) != len(set(listed)):
        raise InvalidCommand("each officer's badge may appear only once")


def totals(lines: Iterable[ResourceLine]) -> Counter[str]:
    counts: Counter[str] = Counter()
    for line in lines:
        counts[line.resource] += line.quantity
    return counts


@dataclass(frozen=True)
class PolicyException:
    """A step taken without the usual authority, as a policy allows (emergency, MOU)."""

    kind: str
    justification: str
    rule: PolicyRef


@dataclass(frozen=True)
class Obligation:
    """Something a party owes under its policy (notify, approve afterwards, report), open until
    fulfilled. ``request_number`` ties an approval obligation to its request."""

    number: int
    party: str
    kind: ObligationKind
    recipients: tuple[str, ...]
    rule: PolicyRef
    request_number: int | None = None


# Value objects that appear inside stored events; persistence registers one codec per class.
EVENT_VALUE_TYPES = (
    Actor,
    ResourceLine,
    Officer,
    RequestDetails,
    ResponseDetails,
    Withdrawal,
    PolicyRef,
    PolicyException,
    Obligation,
)
