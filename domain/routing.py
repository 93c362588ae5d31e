"""Whom to ask next (Kenosha 2.1 IV.D: the County Sheriff first; Pleasant Prairie when the
incident is contiguous to it or the Sheriff cannot provide adequate assistance)."""

from collections.abc import Mapping
from dataclasses import dataclass

from domain.policy import PolicyProfile, PolicyRef
from domain.values import RequestStatus


@dataclass(frozen=True)
class Suggestion:
    agency: str
    reason: str
    rule: PolicyRef


def suggest(
    profile: PolicyProfile,
    asked: Mapping[str, RequestStatus],
    contiguous_to: str | None = None,
) -> list[Suggestion]:
    """Agencies to ask, best first. ``asked`` maps each agency already asked to its latest
    request's status; an agency is suggested again only if its request was cancelled."""
    routing = profile.routing
    if routing is None:
        return []
    rule = profile.ref(routing.section)
    primary_short = asked.get(routing.primary) in (
        RequestStatus.DECLINED,
        RequestStatus.PARTIALLY_ACCEPTED,
        RequestStatus.CANCELLED,
    )
    # The primary agency comes first even where a fallback is contiguous: IV.D makes the
    # Sheriff "the primary agency to be contacted"; Pleasant Prairie "may be contacted".
    ranked = [(routing.primary, "primary agency to ask")]
    if contiguous_to in routing.fallback:
        ranked.append((contiguous_to, "the incident is contiguous to its jurisdiction"))
    if primary_short:
        ranked += [(f, f"{routing.primary} could not provide enough") for f in routing.fallback]
    suggestions: list[Suggestion] = []
    for agency, reason in ranked:
        fresh = asked.get(agency, RequestStatus.CANCELLED) == RequestStatus.CANCELLED
        if fresh and agency not in {s.agency for s in suggestions}:
            suggestions.append(Suggestion(agency, reason, rule))
    return suggestions
