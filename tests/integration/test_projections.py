"""The read models: fed in log order, exactly once, and rebuildable from the log."""

import threading
from typing import Any

import pytest
import sqlalchemy as sa

from app.services import Services
from projections import incident_view
from projections.runner import ProjectionRunner
from projections.tables import READ_MODEL_TABLES, projection_tracking
from tests.scenarios import every_kind_of_event, full_incident


def dump(services: Services) -> dict[str, list[Any]]:
    with services.read_models.connect() as conn:
        return {
            t.name: sorted(map(tuple, conn.execute(sa.select(t)).all()), key=repr)
            for t in READ_MODEL_TABLES
        }


def second_runner(services: Services, batch_size: int = 7) -> ProjectionRunner:
    ledger = services.ledger
    return ProjectionRunner(
        services.projection.name,
        ledger.recorder,
        ledger.mapper.to_domain_event,
        services.read_models,
        incident_view.apply_all,
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
