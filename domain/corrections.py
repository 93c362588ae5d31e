"""Corrections: a wrong fact is never edited; a correcting event records the right value, the
reason and who corrected it, and readers show both."""

from enum import StrEnum

from domain.errors import InvalidCommand


class Correctable(StrEnum):
    """``<part>.<field>``: which recorded fact a correction replaces."""

    NATURE = "incident.nature"
    LOCATION = "incident.location"
    OUTCOME = "incident.outcome"
    REQUEST_FACTS = "request.facts"
    REQUEST_LOCATION = "request.location"
    REPORT_TO = "request.report_to"
    STAGING_AREA = "request.staging_area"
    RADIO_CHANNEL = "request.radio_channel"
    RESPONSE_FACTS = "response.facts"

    @property
    def part(self) -> str:
        return self.value.split(".")[0]


def check_correction(fact: Correctable, number: int | None, value: str, reason: str) -> None:
    if fact.part == "incident" and number is not None:
        raise InvalidCommand(f"{fact} belongs to the incident; give no request number")
    if fact.part != "incident" and number is None:
        raise InvalidCommand(f"{fact} belongs to a request; give its number")
    if not value.strip() or not reason.strip():
        raise InvalidCommand("a correction needs the right value and the reason")
