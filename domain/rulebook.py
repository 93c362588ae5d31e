"""The policy decisions of each command, as pure functions of the profiles in force.

Each returns the ``PolicyRef`` that allowed the step (stored in its event), any exception taken,
and the obligations the step creates; or raises ``PolicyViolation`` naming the rule.
"""

from dataclasses import dataclass

from domain.directory import PolicyBook
from domain.errors import InvalidCommand
from domain.policy import (
    Action,
    ExceptionRule,
    ObligationKind,
    ObligationRule,
    PolicyProfile,
    PolicyRef,
    PolicyViolation,
    Trigger,
    normalize,
)
from domain.values import (
    MUTUAL_AID_KINDS,
    Actor,
    Decision,
    IncidentKind,
    PolicyException,
    RequestDetails,
    ResponseDetails,
)


@dataclass(frozen=True)
class Owed:
    """An obligation a step creates, before the incident numbers it."""

    party: str
    kind: ObligationKind
    recipients: tuple[str, ...]
    rule: PolicyRef


@dataclass(frozen=True)
class Decided:
    authority: PolicyRef
    exception: PolicyException | None = None
    owed: tuple[Owed, ...] = ()


def check_is_mutual_aid(book: PolicyBook, requester: str, kind: str, asked: str) -> None:
    """Kenosha III.A.1: routine services are not mutual assistance requests."""
    for profile in (book.profile(requester), book.profile(asked)):
        if normalize(kind) in profile.not_mutual_aid:
            raise PolicyViolation(
                f"{kind} is a routine service, not a mutual aid request",
                profile.ref(profile.not_mutual_aid_section),
            )
    if kind not in MUTUAL_AID_KINDS:
        raise InvalidCommand(f"kind must be one of: {', '.join(MUTUAL_AID_KINDS)}")


def check_scene_management(profile: PolicyProfile, kind: str, scene: str | None) -> None:
    """Columbia 352.4: a critical incident request says whether it asks for assistance only
    or for complete scene management."""
    section = profile.critical_incident_section
    if kind == IncidentKind.CRITICAL_INCIDENT and section and scene is None:
        raise PolicyViolation(
            "say whether this is assistance only or complete scene management", profile.ref(section)
        )


def decide_request(
    book: PolicyBook, actor: Actor, details: RequestDetails, kind: IncidentKind
) -> Decided:
    book.agency(details.agency)
    profile = book.profile(actor.agency)
    made_under = request_authority(book, profile, actor, details.agency, kind)
    made_by_approver = approved_as_made(profile, actor)
    authority = made_by_approver or made_under
    exception, owed = None, owed_on(profile, actor.agency, Trigger.REQUEST_MADE, actor.roles)
    if details.emergency_justification and made_by_approver is None:
        exception, extra = take_exception(
            profile,
            profile.emergency_request,
            "emergency",
            details.emergency_justification,
            actor.agency,
        )
        owed += extra
    if book.agency(details.agency).federal:
        owed += owed_on(profile, actor.agency, Trigger.FEDERAL_REQUEST_MADE, actor.roles)
    if book.agency(actor.agency).federal:
        owed += owed_on(
            book.profile(details.agency), details.agency, Trigger.FEDERAL_REQUEST_RECEIVED
        )
    return Decided(authority, exception, owed)


def request_authority(
    book: PolicyBook, profile: PolicyProfile, actor: Actor, asked: str, kind: IncidentKind
) -> PolicyRef:
    """Oconomowoc III.B.2: in a case investigatory in nature, the investigating officer, of
    any rank, may ask a federal agency (the Chief is notified: a federal_request_made
    obligation)."""
    section = profile.federal_investigation_section
    if section and kind == IncidentKind.INVESTIGATIVE and book.agency(asked).federal:
        return profile.ref(section)
    return profile.authorize(Action.REQUEST, actor.rank, actor.roles)


def approved_as_made(profile: PolicyProfile, actor: Actor) -> PolicyRef | None:
    """Kenosha IV.A "made or approved by a supervisor": a request made by someone who may
    approve it is approved as it is made, an emergency's too, so it takes no emergency
    exception and owes no approval afterwards. It cites that rule instead of the one it was
    made under, so the log and the reports say why it needs no separate approval."""
    prior = profile.prior_approval
    if prior and is_approver(profile, actor):
        return profile.ref(prior.made_by_approver)
    return None


def approval_required(book: PolicyBook, requested_by: Actor) -> PolicyRef | None:
    """Kenosha IV.A: the rule under which assistance waits for the request's approval; None
    where the requesting agency's policy has no approval step (Minneapolis, Oconomowoc; Alsip
    205.4 and Columbia 352.3 ask for a supervisor notice instead), or the request was made by
    someone who may approve it ("made or approved by a supervisor")."""
    profile = book.profile(requested_by.agency)
    if profile.prior_approval is None or approved_as_made(profile, requested_by):
        return None
    return profile.ref(profile.prior_approval.section)


def is_approver(profile: PolicyProfile, actor: Actor) -> bool:
    return profile.permits(Action.APPROVE, actor.rank, actor.roles)


def decide_approval(book: PolicyBook, actor: Actor) -> PolicyRef:
    return book.profile(actor.agency).authorize(Action.APPROVE, actor.rank, actor.roles)


def decide_recall(book: PolicyBook, actor: Actor) -> PolicyRef:
    return book.profile(actor.agency).authorize(Action.RECALL, actor.rank, actor.roles)


def decide_response(
    book: PolicyBook,
    actor: Actor,
    requester: str,
    details: RequestDetails,
    response: ResponseDetails,
) -> Decided:
    """Minneapolis: the agency asked alone decides; Alsip 205.3: its approver, an MOU, or an
    officer's emergency response; Alsip 205.3 / Columbia 352.2: arrestee transport."""
    profile = book.profile(actor.agency)
    justification = response.emergency_justification
    decided = decide_responder_authority(profile, actor, requester, justification)
    owed = decided.owed + owed_on(profile, actor.agency, Trigger.RESPONSE_MADE, actor.roles)
    if response.decision != Decision.DECLINED:
        owed += owed_on(profile, actor.agency, Trigger.ASSISTANCE_RENDERED, actor.roles)
        has_officer_in_charge = response.officer_in_charge is not None
        check_officer_in_charge(profile, profile.officer_in_charge_section, has_officer_in_charge)
        requesting = book.profile(requester)
        section = requesting.visitors_in_charge_section
        check_officer_in_charge(requesting, section, has_officer_in_charge)
        if details.arrestee_transport and response.provides_transport:
            profile.authorize(Action.TRANSPORT, actor.rank, actor.roles)
            owed += owed_on(profile, actor.agency, Trigger.TRANSPORT, actor.roles)
    return Decided(decided.authority, decided.exception, owed)


def decide_responder_authority(
    profile: PolicyProfile, actor: Actor, requester: str, justification: str | None
) -> Decided:
    if profile.permits(Action.RESPOND, actor.rank, actor.roles):
        return Decided(profile.rule_for(Action.RESPOND))
    if requester in profile.mou_partners:
        rule = profile.ref(profile.mou_section)
        return Decided(rule, PolicyException("mou", f"MOU with {requester}", rule))
    if justification and profile.emergency_response:
        exception, owed = take_exception(
            profile, profile.emergency_response, "emergency", justification, actor.agency
        )
        return Decided(exception.rule, exception, owed)
    return Decided(profile.authorize(Action.RESPOND, actor.rank, actor.roles))


def check_officer_in_charge(profile: PolicyProfile, section: str | None, present: bool) -> None:
    """Minneapolis: its detail answering a request stays under its own superior or senior
    officer, and so does a detail answering its request."""
    if section and not present:
        raise PolicyViolation("name the officer in charge of the detail", profile.ref(section))


def take_exception(
    profile: PolicyProfile, rule: ExceptionRule | None, kind: str, justification: str, party: str
) -> tuple[PolicyException, tuple[Owed, ...]]:
    if rule is None:  # no section says so: the whole policy is cited
        raise PolicyViolation(f"this policy has no {kind} exception", profile.ref(profile.title))
    exception = PolicyException(kind, justification, profile.ref(rule.section))
    return exception, tuple(owing(profile, party, owed) for owed in rule.owes)


def owed_on(
    profile: PolicyProfile, party: str, trigger: Trigger, roles: tuple[str, ...] = ()
) -> tuple[Owed, ...]:
    """``roles``: the actor's, when the actor is of ``party``: nobody is told of their own step."""
    owed = (owing(profile, party, rule, roles) for rule in profile.owed_on(trigger))
    return tuple(o for o in owed if o.recipients)


def owing(
    profile: PolicyProfile, party: str, rule: ObligationRule, roles: tuple[str, ...] = ()
) -> Owed:
    recipients = rule.recipients_besides(roles)
    return Owed(party, rule.kind, recipients, profile.ref(rule.section))
