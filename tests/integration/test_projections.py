"""The read models: fed in log order, exactly once, and rebuildable from the log."""

import contextlib
import gc
import threading
import time
from datetime import timedelta
from typing import Any
from uuid import UUID

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from app.cli import cli
from app.ledger import Context
from app.services import Services
from domain.incident import Incident
from projections import incident_view
from projections.runner import Apply, ProjectionRunner, Stall
from projections.tables import READ_MODEL_TABLES, projection_tracking
from tests.scenarios import (
    REQUESTER,
    RESPONDER,
    T0,
    every_kind_of_event,
    full_incident,
    open_incident,
    partial_response,
)


def dump(services: Services) -> dict[str, list[Any]]:
    with services.read_models.connect() as conn:
        return {
            t.name: sorted(map(tuple, conn.execute(sa.select(t)).all()), key=repr)
            for t in READ_MODEL_TABLES
        }


def second_runner(
    services: Services, batch_size: int = 7, apply: Apply | None = None
) -> ProjectionRunner:
    ledger = services.ledger
    return ProjectionRunner(
        services.projection.name,
        ledger.recorder,
        ledger.mapper.to_domain_event,
        services.read_models,
        apply or incident_view.IncidentView(),
        batch_size=batch_size,
    )


def test_rebuilding_from_the_log_gives_tables_identical_to_the_live_ones(
    services: Services,
) -> None:
    for n in range(12):
        full_incident(services.ledger, f"K-{n}", close=n % 3 != 0)
        services.projection.run_until_caught_up()
    live = dump(services)

    rebuilt_events = services.projection.rebuild()

    assert rebuilt_events == services.ledger.recorder.max_notification_id()
    assert dump(services) == live
    assert sum(len(rows) for rows in live.values()) > 12 * 4


@pytest.mark.usefixtures("cli_environment")
def test_the_rebuild_command_gives_the_live_tables_with_the_collector_tuned(
    services: Services,
) -> None:
    for n in range(3):
        every_kind_of_event(services.ledger, f"K-{n}")
    services.projection.run_until_caught_up()
    live = dump(services)
    gc.set_threshold(700, 10, 10)  # Python's default, whatever ran in this process before

    run = CliRunner().invoke(cli, ["rebuild"])

    assert run.exit_code == 0, run.output
    head = services.ledger.recorder.max_notification_id()
    assert f"rebuilt up to position {head}: {head} events applied here" in run.output
    assert dump(services) == live
    assert gc.get_threshold()[0] == 20_000


@pytest.mark.parametrize("batch_size", [1, 4])
def test_batch_boundaries_do_not_change_the_tables(services: Services, batch_size: int) -> None:
    """A batch is applied in memory and written once: cut anywhere, the rows are the same."""
    for n in range(3):
        every_kind_of_event(services.ledger, f"K-{n}")
    services.projection.run_until_caught_up()  # one batch holds the whole log
    whole = dump(services)
    for table in whole:
        assert whole[table], f"no rows in {table}: the scenario misses an event type"

    services.projection.rebuild()
    with services.read_models.begin() as conn:
        conn.execute(sa.delete(projection_tracking))
        for table in reversed(READ_MODEL_TABLES):
            conn.execute(sa.delete(table))
    second_runner(services, batch_size).run_until_caught_up()

    assert dump(services) == whole


def test_the_projection_resumes_where_it_stopped(services: Services) -> None:
    full_incident(services.ledger, "K-1")
    first = services.projection.run_until_caught_up()
    last = full_incident(services.ledger, "K-2")

    second = services.projection.run_until_caught_up()

    assert (first, second) == (last // 2, last // 2)
    assert services.projection.position() == last


def failing_on(monkeypatch: pytest.MonkeyPatch, event: Any, error: Exception) -> None:
    """The handler of ``event``'s type raises ``error`` for that event, as a bug would."""
    kind: type[Any] = type(event)
    original = incident_view.HANDLERS[kind]

    def broken(rows: incident_view.Rows, e: Any) -> None:
        if (e.originator_id, e.originator_version) == (
            event.originator_id,
            event.originator_version,
        ):
            raise error
        original(rows, e)

    monkeypatch.setitem(incident_view.HANDLERS, kind, broken)


@pytest.mark.parametrize("poisoned", ["the second closing", "the first event"])
def test_an_event_that_cannot_be_applied_stops_the_projection_after_those_before_it(
    services: Services, monkeypatch: pytest.MonkeyPatch, poisoned: str
) -> None:
    """A batch holding it fails whole; tried again one event at a time, every event before
    it is projected and the stall is recorded, for any process to see. A fixed release (here
    another runner) resumes and clears it."""
    for n in range(3):
        full_incident(services.ledger, f"K-{n}")
    log = services.ledger.recorder.select_notifications(0, 1000)
    events = [services.ledger.mapper.to_domain_event(n) for n in log]
    closings = [i for i, e in enumerate(events) if isinstance(e, Incident.IncidentClosed)]
    poison = closings[1] if poisoned == "the second closing" else 0
    failing_on(monkeypatch, events[poison], ValueError("no outcome column"))
    runner = second_runner(services, batch_size=500)
    with pytest.raises(ValueError, match="no outcome column"):
        runner.run_until_caught_up()  # the whole batch, then one event at a time up to it

    assert runner.position() == (log[poison - 1].id if poison else 0)
    assert runner.stall() == Stall(log[poison].id, "ValueError")

    monkeypatch.undo()
    fixed = second_runner(services)
    fixed.run_until_caught_up()
    live = dump(services)
    services.projection.rebuild()

    assert runner.position() == log[-1].id
    assert runner.stall() is None
    assert dump(services) == live


def test_a_stall_is_shown_only_while_the_position_is_before_it(services: Services) -> None:
    """Found in review: a release that does not know stalls (rolled back to) moves the
    position without clearing one."""
    runner = services.projection
    with runner.engine.begin() as conn:
        conn.execute(
            sa.insert(projection_tracking).values(
                name=runner.name, position=5, stalled_at=6, stall_error="ValueError"
            )
        )
    stalled = runner.stall()
    with runner.engine.begin() as conn:
        conn.execute(sa.update(projection_tracking).values(position=6))

    assert stalled == Stall(6, "ValueError")
    assert runner.stall() is None


def test_two_runners_at_once_apply_each_event_exactly_once(services: Services) -> None:
    for n in range(20):
        full_incident(services.ledger, f"K-{n}")
    runners = [second_runner(services), second_runner(services)]
    errors: list[Exception] = []

    def drain(runner: ProjectionRunner) -> None:
        while runner.position() < (services.ledger.recorder.max_notification_id() or 0):
            try:
                runner.run_until_caught_up()
            except Exception as error:  # a lost race rolls back; try again
                errors.append(error)

    threads = [threading.Thread(target=drain, args=(r,)) for r in runners]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    concurrent = dump(services)

    services.projection.rebuild()
    assert dump(services) == concurrent


AN_HOUR_IN = T0 + timedelta(hours=1)


def responded(services: Services, case_number: str) -> UUID:
    incident = open_incident(services.ledger, case_number)
    services.ledger.approve(incident, 1, Context(REQUESTER, AN_HOUR_IN)).result()
    services.ledger.respond(
        incident, 1, partial_response(), Context(RESPONDER, AN_HOUR_IN)
    ).result()
    return incident


def involvement_noted(services: Services, incident: UUID, note: str) -> None:
    responder = Context(RESPONDER, AN_HOUR_IN)
    services.ledger.record_involvement(incident, 1, "D-0", note, "", responder).result()


def test_a_runner_overtaken_before_it_claims_the_position_applies_nothing_twice(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found in review: a runner overtaken by another consumer wrote rows that one had
    written, failed, and recorded a stall; or it applied the events again on rows it held,
    lost the compare-and-set and rolled back. It now claims the position before it reads or
    writes a row: it finds the position moved, reads it again and applies nothing."""
    incident = responded(services, "K-1")
    runner, other = second_runner(services), second_runner(services)
    runner.run_until_caught_up()
    recorder = services.ledger.recorder
    select_notifications = recorder.select_notifications

    def overtaken(*args: Any, **kwargs: Any) -> Any:
        monkeypatch.undo()
        other.run_until_caught_up()
        return select_notifications(*args, **kwargs)

    monkeypatch.setattr(recorder, "select_notifications", overtaken)
    involvement_noted(services, incident, "note 1")
    applied = runner.run_until_caught_up()
    involvement_noted(services, incident, "note 2")
    runner.run_until_caught_up()
    live = dump(services)

    services.projection.rebuild()

    assert applied == 0
    assert runner.stall() is None
    assert dump(services) == live
    assert len(live["officers"][0][-1]) == 2  # involvement, last column: each note once


@pytest.mark.parametrize("capacity", [1, 1000])
def test_rows_held_in_memory_are_not_trusted_after_another_consumer_wrote(
    services: Services, capacity: int
) -> None:
    """Each runner holds the rows it wrote last; once another one has moved the position,
    writing those back would lose the other's changes (here, involvement notes)."""
    incident = responded(services, "K-1")
    runners = [
        second_runner(services, apply=incident_view.IncidentView(capacity)) for _ in range(2)
    ]
    open_incident(services.ledger, "K-2")  # with capacity 1, pushes K-1 out
    runners[0].run_until_caught_up()
    for n in range(4):
        involvement_noted(services, incident, f"note {n}")
        runners[n % 2].run_until_caught_up()
    interleaved = dump(services)

    services.projection.rebuild()

    assert dump(services) == interleaved
    assert len(interleaved["officers"][0][-1]) == 4  # involvement, last column


def test_a_rolled_back_batch_leaves_the_rows_held_in_memory_as_they_were(
    services: Services,
) -> None:
    incident = responded(services, "K-1")
    view, failing = incident_view.IncidentView(), [False]

    def apply_then_maybe_fail(conn: sa.Connection, batch: Any, after: int) -> None:
        view(conn, batch, after)
        if failing[0]:
            raise RuntimeError("the commit fails")

    runner = second_runner(services, apply=apply_then_maybe_fail)
    runner.run_until_caught_up()
    involvement_noted(services, incident, "held the line")
    failing[0] = True
    with pytest.raises(RuntimeError):
        runner.run_until_caught_up()
    failing[0] = False
    runner.run_until_caught_up()
    once = dump(services)

    services.projection.rebuild()

    assert dump(services) == once


def the_rebuild_waits(services: Services, started: threading.Event) -> bool:
    """The rebuild has started emptying the read model and, on PostgreSQL, waits for a lock.
    (SQLite's wait for its write lock cannot be seen; its writers take turns either way.)"""
    if not started.wait(30):
        return False
    if not services.settings.uses_postgres:
        return True
    waiting = sa.text(
        "SELECT count(*) FROM pg_stat_activity"
        " WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    deadline = time.monotonic() + 30
    with services.read_models.connect() as conn:
        while not conn.execute(waiting).scalar():
            conn.rollback()  # a new snapshot of the activity view
            if time.monotonic() > deadline:
                return False
    return True


@pytest.mark.parametrize("paused", ["the first batch", "a later batch"])
def test_a_rebuild_beside_a_batch_in_flight_waits_for_it(services: Services, paused: str) -> None:
    """Found in review: on PostgreSQL a rebuild emptied the tables while a live batch was
    writing; the officers that batch added survived without a position, and the rebuild and
    the live runner then failed on their keys for good. Here the batch pauses after writing
    until the rebuild has started and waits; then both finish and agree with a rebuild."""
    incident = open_incident(services.ledger, "K-1")
    view, written, release = incident_view.IncidentView(), threading.Event(), threading.Event()
    pausing = [False]

    def pauses_once(conn: sa.Connection, batch: Any, after: int) -> Any:
        committed = view(conn, batch, after)
        if pausing[0]:
            pausing[0] = False
            written.set()
            release.wait(30)
        return committed

    live = second_runner(services, apply=pauses_once)
    if paused == "a later batch":
        live.run_until_caught_up()
    services.ledger.approve(incident, 1, Context(REQUESTER, AN_HOUR_IN)).result()
    services.ledger.respond(
        incident, 1, partial_response(), Context(RESPONDER, AN_HOUR_IN)
    ).result()  # officers added, the incident and its request changed
    errors: list[Exception] = []

    def run(work: Any) -> None:
        try:
            work()
        except Exception as error:
            errors.append(error)

    started = threading.Event()
    sa.event.listen(services.projection.engine, "before_cursor_execute", lambda *_: started.set())
    pausing[0] = True
    batch = threading.Thread(target=run, args=(live.run_until_caught_up,))
    batch.start()
    assert written.wait(30)
    rebuild = threading.Thread(target=run, args=(services.projection.rebuild,))
    rebuild.start()
    assert the_rebuild_waits(services, started)
    release.set()
    batch.join()
    rebuild.join()
    live.run_until_caught_up()
    beside = dump(services)

    services.projection.rebuild()

    assert errors == []
    assert live.position() == services.ledger.recorder.max_notification_id()
    assert live.stall() is None
    assert dump(services) == beside
    assert beside["officers"]


def test_reads_see_the_read_model_as_it_was_until_a_rebuild_commits(services: Services) -> None:
    """An acceptance test saw incidents answer 404 while a rebuild ran: the emptying committed
    first. Here the rebuild pauses after its first batch, and a read meanwhile finds every
    incident as before; a rebuild that fails leaves them so too."""
    for n in range(4):
        full_incident(services.ledger, f"K-{n}")
    services.projection.run_until_caught_up()
    before = dump(services)
    view, paused, release = incident_view.IncidentView(), threading.Event(), threading.Event()
    batches, fails = [0], [True]

    def pauses_after_the_first_batch(conn: sa.Connection, batch: Any, after: int) -> Any:
        committed = view(conn, batch, after)
        batches[0] += 1
        if batches[0] == 1:
            paused.set()
            release.wait(30)
        if batches[0] == 3 and fails[0]:
            raise RuntimeError("a handler fails")
        return committed

    for failing in (True, False):
        batches[0], fails[0] = 0, failing
        rebuilder = second_runner(services, apply=pauses_after_the_first_batch)
        rebuild = threading.Thread(target=rebuilt_unless_it_fails, args=(rebuilder,))
        rebuild.start()
        assert paused.wait(30)
        meanwhile = dump(services)
        release.set()
        rebuild.join()
        paused.clear()
        release.clear()

        assert meanwhile == before
        assert dump(services) == before


def rebuilt_unless_it_fails(runner: ProjectionRunner) -> None:
    with contextlib.suppress(RuntimeError):
        runner.rebuild()
