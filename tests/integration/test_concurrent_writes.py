"""Several dispatchers acting on one incident at once: no write is lost or applied twice."""

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest

from app.ledger import Context, MutualAidLedger, Written
from app.services import Services, build_services
from app.settings import Settings
from domain.errors import DomainError, RuleViolation, VersionMismatch
from tests.scenarios import REQUESTER, RESPONDER, T0, open_incident, partial_response

THREADS = 10


@pytest.fixture
def ledger(settings: Settings) -> Iterator[MutualAidLedger]:
    services: Services = build_services(settings.model_copy(update={"command_retries": 50}))
    try:
        yield services.ledger
    finally:
        services.close()


def race(attempt: Callable[[int], Written]) -> list[Any]:
    """Run the attempts together; return each one's result or domain error."""

    def outcome(n: int) -> Any:
        try:
            return attempt(n)
        except DomainError as error:
            return error

    with ThreadPoolExecutor(THREADS) as pool:
        return list(pool.map(outcome, range(THREADS)))


def versions(ledger: MutualAidLedger, incident: Any) -> list[int]:
    return [event.originator_version for event in ledger.events.get(incident)]


def test_racing_responses_to_one_request_store_exactly_one(ledger: MutualAidLedger) -> None:
    incident = open_incident(ledger, "K-1")
    ledger.approve(incident, 1, Context(REQUESTER, T0)).result()

    responder = Context(RESPONDER, T0)

    results = race(lambda n: ledger.respond(incident, 1, partial_response(), responder).result())

    assert sum(isinstance(r, Written) for r in results) == 1
    assert all(isinstance(r, RuleViolation) for r in results if not isinstance(r, Written))
    assert versions(ledger, incident) == [1, 2, 3, 4]


def test_racing_valid_notes_are_all_kept_in_contiguous_versions(ledger: MutualAidLedger) -> None:
    incident = open_incident(ledger, "K-1")
    ledger.approve(incident, 1, Context(REQUESTER, T0)).result()
    ledger.respond(incident, 1, partial_response(), Context(RESPONDER, T0)).result()

    def note(n: int) -> Written:
        at = Context(RESPONDER, T0 + timedelta(minutes=n))
        return ledger.record_involvement(incident, 1, "D-0", f"note {n}", "", at).result()

    results = race(note)

    assert all(isinstance(r, Written) for r in results)
    assert sorted(r.version for r in results) == list(range(5, 5 + THREADS))
    assert versions(ledger, incident) == list(range(1, 5 + THREADS))


def test_racing_writes_with_the_same_if_match_let_exactly_one_through(
    ledger: MutualAidLedger,
) -> None:
    incident = open_incident(ledger, "K-1")
    ledger.approve(incident, 1, Context(REQUESTER, T0)).result()
    ledger.respond(incident, 1, partial_response(), Context(RESPONDER, T0)).result()

    def note(n: int) -> Written:
        at_version_4 = Context(RESPONDER, T0, expected_version=4)
        return ledger.record_involvement(incident, 1, "D-0", f"note {n}", "", at_version_4).result()

    results = race(note)

    assert sum(isinstance(r, Written) for r in results) == 1
    assert all(isinstance(r, VersionMismatch) for r in results if not isinstance(r, Written))
    assert versions(ledger, incident) == [1, 2, 3, 4, 5]
