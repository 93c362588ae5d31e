"""Group commit: commands waiting for the ledger's writer are stored in one transaction, yet
each is checked and answered on its own. The writer is held on a first command while the
others queue, so the batch they form is known."""

import threading
from collections.abc import Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from typing import Any

import pytest

from app.ledger import Context, Idempotency, Job, MutualAidLedger, Written
from app.services import Services, build_services
from domain.errors import RuleViolation
from domain.incident import Incident
from tests.scenarios import REQUESTER, RESPONDER, T0, ask, open_incident, partial_response


@contextmanager
def writer_held(ledger: MutualAidLedger) -> Iterator[None]:
    """Keeps the writer busy opening an incident until the block ends."""
    started, release = threading.Event(), threading.Event()
    ctx = Context(REQUESTER, T0)

    def create() -> Incident:
        started.set()
        release.wait(10)
        return Incident.open(
            case_number="HOLD",
            nature="Hold",
            kind="emergency",
            location="Here",
            request=ask(),
            actor=REQUESTER,
            occurred_at=T0,
            book=ledger.book(T0),
        )

    held: Future[Written] = ledger._submit(
        Job(Incident.create_id("KPD", "HOLD"), ctx, create=create)
    )
    try:
        assert started.wait(10)
        yield
    finally:
        release.set()
        held.result(10)


@pytest.fixture
def transactions(services: Services, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The number of events of each transaction that stored events."""
    recorder = services.ledger.recorder
    insert = recorder.insert_events
    counts: list[int] = []

    def counted(stored_events: list[Any], **kwargs: Any) -> Any:
        counts.append(len(stored_events))
        return insert(stored_events, **kwargs)

    monkeypatch.setattr(recorder, "insert_events", counted)
    return counts


def approved_incidents(ledger: MutualAidLedger, count: int) -> list[Any]:
    incidents = [open_incident(ledger, f"G-{n}") for n in range(count)]
    for incident in incidents:
        ledger.approve(incident, 1, Context(REQUESTER, T0)).result()
    return incidents


def test_commands_waiting_together_share_one_transaction(
    services: Services, transactions: list[int]
) -> None:
    ledger = services.ledger
    incidents = approved_incidents(ledger, 20)
    transactions.clear()

    with writer_held(ledger):
        pending = [
            ledger.respond(i, 1, partial_response(), Context(RESPONDER, T0)) for i in incidents
        ]

    written = [p.result(10) for p in pending]
    assert transactions == [2, 20]  # the held open (two events), then the twenty responses
    assert sorted(w.position for w in written) == [w.position for w in written]
    assert all(
        ledger.repository.get(i).version == w.version
        for i, w in zip(incidents, written, strict=True)
    )


def test_a_refused_command_does_not_hold_back_the_others(
    services: Services, transactions: list[int]
) -> None:
    ledger = services.ledger
    incidents = approved_incidents(ledger, 3)
    transactions.clear()

    with writer_held(ledger):
        twice = ledger.approve(incidents[0], 1, Context(REQUESTER, T0))
        pending = [
            ledger.respond(i, 1, partial_response(), Context(RESPONDER, T0)) for i in incidents
        ]

    with pytest.raises(RuleViolation):
        twice.result(10)
    assert all(isinstance(p.result(10), Written) for p in pending)
    assert transactions == [2, 3]  # the refusal stored nothing; the three responses one


def responded_incidents(ledger: MutualAidLedger, count: int) -> list[Any]:
    incidents = approved_incidents(ledger, count)
    for incident in incidents:
        ledger.respond(incident, 1, partial_response(), Context(RESPONDER, T0)).result()
    return incidents


def note(ledger: MutualAidLedger, incident: Any, text: str) -> Future[Written]:
    return ledger.record_involvement(incident, 1, "D-1", text, "", Context(RESPONDER, T0))


def test_incidents_another_process_wrote_are_reloaded_before_the_batch_runs(
    services: Services, transactions: list[int]
) -> None:
    ledger = services.ledger
    incidents = responded_incidents(ledger, 4)
    other = build_services(services.settings)
    try:
        theirs = note(other.ledger, incidents[0], "theirs").result()
        transactions.clear()
        with writer_held(ledger):
            notes = [note(ledger, i, "mine") for i in incidents]
    finally:
        other.close()

    assert notes[0].result(10).version == theirs.version + 1
    assert all(isinstance(p.result(10), Written) for p in notes)
    assert transactions == [2, 4]  # no collision: one transaction for the four


def test_a_collision_in_a_batch_stores_every_command_against_the_newest_state(
    services: Services, transactions: list[int]
) -> None:
    """Another process writes to an incident after the batch began: the batch collides and
    stores nothing; each command is then run and stored on its own."""
    ledger = services.ledger
    incidents = responded_incidents(ledger, 4)
    other = build_services(services.settings)
    raced: list[Written] = []

    def race_then_note(incident: Incident, book: Any) -> None:
        if not raced:  # the other process writes while this batch runs
            raced.append(note(other.ledger, incidents[0], "theirs").result())
        incident.record_involvement(1, "D-1", "mine", "", RESPONDER, T0)

    try:
        transactions.clear()
        with writer_held(ledger):
            first = ledger._update(incidents[1], Context(RESPONDER, T0), race_then_note)
            notes = [note(ledger, i, "mine") for i in (incidents[0], *incidents[2:])]
        written = [p.result(10) for p in [first, *notes]]
    finally:
        other.close()

    assert written[1].version == raced[0].version + 1
    assert transactions == [2, 4, 1, 1, 1, 1]  # the hold, the batch; then each alone


def test_twins_in_one_batch_get_one_answer(services: Services) -> None:
    """Two sends of one request with one Idempotency-Key: the second is answered with the
    first's result and stores nothing."""
    ledger = services.ledger
    [incident] = approved_incidents(ledger, 1)
    key = Idempotency("KCSD", "retry-1", "hash of the request")
    ctx = Context(RESPONDER, T0, idempotency=key)

    with writer_held(ledger):
        first = ledger.respond(incident, 1, partial_response(), ctx)
        second = ledger.respond(incident, 1, partial_response(), ctx)

    assert first.result(10) == second.result(10)
    assert ledger.repository.get(incident).version == first.result().version


def test_a_retry_whose_original_another_process_stores_meanwhile_gets_the_first_answer(
    services: Services,
) -> None:
    """The batch's keys are looked up once; the original is stored by another process after
    that, while the batch runs. The retry must still get the original's answer, not a
    refusal from the state the original made (approving twice is refused)."""
    ledger = services.ledger
    other = build_services(services.settings)
    try:
        incident = open_incident(other.ledger, "G-R")  # not in this ledger's memory
        [busy] = approved_incidents(ledger, 1)
        ctx = Context(REQUESTER, T0, idempotency=Idempotency("KPD", "approve-1", "h"))
        originals: list[Written] = []

        def original_elsewhere_then_note(i: Incident, book: Any) -> None:
            originals.append(other.ledger.approve(incident, 1, ctx).result())
            i.record_involvement(1, "D-1", "mine", "", RESPONDER, T0)

        with writer_held(ledger):
            responded = ledger.respond(busy, 1, partial_response(), Context(RESPONDER, T0))
            ledger._update(busy, Context(RESPONDER, T0), original_elsewhere_then_note)
            retry = ledger.approve(incident, 1, ctx)
        responded.result(10)
        answer = retry.result(10)
    finally:
        other.close()

    assert answer == originals[0]


def test_the_keys_of_a_batch_are_looked_up_in_one_query(
    services: Services, transactions: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A CAD system sends every command with an Idempotency-Key: one query finds which keys
    of the batch were used before, not one query per command."""
    ledger = services.ledger
    incidents = approved_incidents(ledger, 20)
    keyed = [
        Context(RESPONDER, T0, idempotency=Idempotency("KCSD", f"k-{n}", f"h-{n}"))
        for n in range(20)
    ]
    answered = ledger.respond(incidents[0], 1, partial_response(), keyed[0]).result()
    lookups = spy_on(ledger.recorder, "find_idempotencies", monkeypatch)
    transactions.clear()

    with writer_held(ledger):  # the first is a retry of the command just answered
        pending = [
            ledger.respond(i, 1, partial_response(), ctx)
            for i, ctx in zip(incidents, keyed, strict=True)
        ]

    written = [p.result(10) for p in pending]
    assert [len(keys) for keys in lookups] == [20]
    assert written[0] == answered
    assert transactions == [2, 19]


def spy_on(recorder: Any, method: str, monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The first argument of each call of the recorder's ``method``."""
    calls: list[Any] = []
    real = getattr(recorder, method)

    def spied(first: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(first)
        return real(first, *args, **kwargs)

    monkeypatch.setattr(recorder, method, spied)
    return calls


def test_a_command_refused_after_changing_the_incident_leaves_nothing_behind(
    services: Services,
) -> None:
    """The writer changes incidents in place; one whose command failed part-way is dropped
    from memory, so none of its changes reach a later save."""
    ledger = services.ledger
    incident = open_incident(ledger, "G-1")

    def approve_then_fail(i: Incident, book: Any) -> None:
        i.approve(1, REQUESTER, T0, book)
        raise RuleViolation("changed my mind")

    with pytest.raises(RuleViolation):
        ledger._update(incident, Context(REQUESTER, T0), approve_then_fail).result(10)
    ledger.request_assistance(incident, ask("PPPD"), Context(REQUESTER, T0)).result()

    names = [type(e).__name__ for e in ledger.events.get(incident)]
    assert "RequestApproved" not in names


def test_closing_stores_the_commands_queued_and_refuses_later_ones(services: Services) -> None:
    ledger = services.ledger
    [incident] = approved_incidents(ledger, 1)
    closing = threading.Thread(target=ledger.close)

    with writer_held(ledger):
        queued = ledger.respond(incident, 1, partial_response(), Context(RESPONDER, T0))
        closing.start()

    closing.join(10)
    assert isinstance(queued.result(10), Written)
    with pytest.raises(RuntimeError, match="closed"):
        ledger.approve(incident, 1, Context(REQUESTER, T0))
