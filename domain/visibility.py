"""Which events of an incident each agency may see (CJIS need-to-know).

The requesting agency sees everything. An agency it asked sees the incident itself (opened,
corrected, closed) and what concerns its own requests and obligations, not the requests made
to other agencies. An agency never asked sees nothing, which the callers answer with 404.
"""

from dataclasses import dataclass, field
from typing import Any

from domain.incident import Incident
from domain.obligations import concerns


@dataclass
class Audience:
    """Folded from an incident's events in order: who asked, whom, and who owes what."""

    requester: str | None = None
    asked: dict[int, str] = field(default_factory=dict)  # request number -> agency asked
    # obligation number -> (the agency that owes it, the agency asked on its request)
    owed: dict[int, tuple[str, str | None]] = field(default_factory=dict)

    def follow(self, event: Any) -> None:
        if isinstance(event, Incident.IncidentOpened):
            self.requester = event.actor.agency
        if isinstance(event, Incident.AssistanceRequested):
            self.asked[event.number] = event.details.agency
        for owed in getattr(event, "obligations", ()):
            self.owed[owed.number] = (owed.party, self.asked.get(owed.request_number or 0))

    def parties(self) -> set[str]:
        return {a for a in (self.requester, *self.asked.values()) if a is not None}

    def sees(self, event: Any, agency: str | None) -> bool:
        """``agency`` None stands for an auditor of every agency."""
        if agency is None or agency == self.requester:
            return True
        if isinstance(event, Incident.ObligationFulfilled):
            owed_by, asked = self.owed[event.number]
            return concerns(agency, self.requester, owed_by, asked)
        if isinstance(event, Incident.ActivityOutsideJurisdictionReported):
            return False
        number = getattr(event, "number", None)
        if number is not None:
            return self.asked.get(number) == agency
        return agency in self.parties()


def audience_of(events: list[Any]) -> Audience:
    audience = Audience()
    for event in events:
        audience.follow(event)
    return audience
