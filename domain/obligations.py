"""Obligations a policy creates (notify, approve afterwards, report), open until met."""

from dataclasses import dataclass
from datetime import datetime

from domain.errors import InvalidCommand, RuleViolation
from domain.policy import ObligationKind
from domain.values import Obligation


def concerns(agency: str, requester: str | None, owed_by: str, asked: str | None) -> bool:
    """An obligation concerns the requesting agency, the agency that owes it (``owed_by``) and
    the agency ``asked`` on the request it is tied to, if any: no one else sees it."""
    return agency in (requester, owed_by, asked)


@dataclass
class ObligationState:
    obligation: Obligation
    outstanding: set[str]
    owed_at: datetime | None = None  # None only in a version 1 snapshot, which loads pass over

    @classmethod
    def owed(cls, obligation: Obligation, occurred_at: datetime) -> "ObligationState":
        return cls(obligation, set(obligation.recipients), occurred_at)

    def is_met(self) -> bool:
        return not self.outstanding

    def is_approval_of(self, request_number: int) -> bool:
        o = self.obligation
        return o.kind == ObligationKind.APPROVE and o.request_number == request_number


def check_fulfilment(state: ObligationState, recipients: tuple[str, ...]) -> tuple[str, ...]:
    """The recipients this fulfilment covers; all outstanding ones when none are named."""
    number = state.obligation.number
    if state.obligation.kind == ObligationKind.APPROVE:
        raise RuleViolation(f"obligation {number} is met by approving the request")
    if state.is_met():
        raise RuleViolation(f"obligation {number} is already met")
    unknown = set(recipients) - state.outstanding
    if unknown:
        raise InvalidCommand(
            f"not outstanding on obligation {number}: {', '.join(sorted(unknown))}"
        )
    return recipients or tuple(sorted(state.outstanding))
