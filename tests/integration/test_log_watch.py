"""A process running the projections learns of another process's writes from the log watch,
not by asking the store every few milliseconds (app/log_watch.py)."""

from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import psycopg
import pytest

from app.log_watch import SqliteLogWatch
from app.services import Services, build_services
from app.settings import Settings
from tests.scenarios import open_incident

NEVER = 60  # the runners' own polling: out of the picture within a test's timeouts


@pytest.fixture
def worker(settings: Settings) -> Iterator[Services]:
    """Runs the runners as `mutual-aid project` does, apart from the process that writes."""
    slow = settings.model_copy(
        update={"projection_poll_seconds": NEVER, "seal_poll_seconds": NEVER}
    )
    with closing(build_services(slow)) as services:
        services.projection.start()
        services.start_sealing()
        services.watch_the_log()
        yield services


def test_another_process_write_is_projected_at_once(worker: Services, services: Services) -> None:
    for n in range(3):
        open_incident(services.ledger, f"K-{n}")
        position = services.ledger.recorder.max_notification_id() or 0
        assert worker.projection.wait_for(position, timeout=10)
        assert worker.sealer.wait_for(position, timeout=10)


def test_on_sqlite_the_worker_does_not_linger_after_the_watch(
    sqlite_settings: Settings, sqlite_services: Services
) -> None:
    """The watch's look every 10 ms already gathers the writes of that interval; lingering
    on top of it doubled the projection lag (p50 5.8 -> 8.4 ms at 500 writes/s)."""
    lingering = sqlite_settings.model_copy(
        update={"projection_poll_seconds": NEVER, "projection_linger_seconds": 1.0}
    )
    with closing(build_services(lingering)) as worker:
        worker.projection.start()
        worker.watch_the_log()
        open_incident(sqlite_services.ledger, "K-1")
        position = sqlite_services.ledger.recorder.max_notification_id() or 0
        assert worker.projection.wait_for(position, timeout=0.5)  # well before the linger


def test_the_sqlite_watch_wakes_on_writes_only(
    sqlite_services: Services, sqlite_settings: Settings
) -> None:
    woken: list[None] = []
    watch = SqliteLogWatch(sqlite_settings.sqlite_files.events, lambda: woken.append(None), NEVER)
    try:
        watch.look()
        assert sqlite_services.wal
        sqlite_services.wal.checkpoint()  # copying the write-ahead log back is no write
        watch.look()
        assert woken == []
        open_incident(sqlite_services.ledger, "K-1")
        watch.look()
        watch.look()
        assert woken == [None]
    finally:
        watch.stop()


@pytest.mark.postgres
def test_the_watch_listens_again_after_losing_its_connection(
    postgres_url: str, tmp_path: Path
) -> None:
    settings = Settings(database_url=postgres_url, data_dir=tmp_path, projection_poll_seconds=NEVER)
    with closing(build_services(settings)) as worker, closing(build_services(settings)) as writer:
        worker.projection.start()
        worker.watch_the_log()
        open_incident(writer.ledger, "K-1")
        assert worker.projection.wait_for(writer.ledger.recorder.max_notification_id() or 0, 10)
        with psycopg.connect(postgres_url, autocommit=True) as admin:
            ended = admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE query LIKE 'LISTEN%' AND datname = current_database()"
            ).fetchall()
        assert ended == [(True,)]
        open_incident(writer.ledger, "K-2")
        assert worker.projection.wait_for(writer.ledger.recorder.max_notification_id() or 0, 10)
