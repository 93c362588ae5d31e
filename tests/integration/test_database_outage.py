"""Issue 4, must show 5: PostgreSQL stops during load and starts again. While it is down the
service answers only 503 with Retry-After (never 500); it recovers by itself; nothing that
was acknowledged is lost, and every request answered has its access log entry, once: those
answered during the outage wait in the spool and reach the table when the database is back."""

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from app.settings import Settings
from tests.api import bodies
from tests.integration.server import ServerProcess
from tests.integration.test_crash_recovery import keys
from tests.postgres import Cluster, create_database, remove_cluster, start_cluster

pytestmark = pytest.mark.postgres


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    """A server of this test's own, since the test stops it."""
    own = start_cluster()
    try:
        yield own
    finally:
        remove_cluster(own)


class Load:
    """Opens incidents one after another until stopped, recording every answer."""

    def __init__(self, client: httpx.Client, key: str) -> None:
        self.client, self.key = client, key
        self.answers: list[tuple[str, int, Any]] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run)

    def run(self) -> None:
        n = 0
        while not self.stop.is_set():
            case = f"K-OUT-{n}"
            answer = self.client.post(
                "/v1/incidents",
                json=bodies.open_body(case),
                headers={"Authorization": f"Bearer {self.key}", "Idempotency-Key": case},
            )
            self.answers.append((case, answer.status_code, answer))
            n += answer.status_code == 201

    def statuses(self) -> set[int]:
        return {status for _, status, _ in self.answers}


def test_an_outage_gives_only_503s_and_the_service_recovers_without_a_restart(
    cluster: Cluster, tmp_path: Path
) -> None:
    settings = Settings(database_url=create_database(cluster.url), data_dir=tmp_path)
    key = keys(settings)
    server = ServerProcess(settings)
    server.start()
    try:
        with httpx.Client(base_url=server.url, timeout=60) as client:
            load = Load(client, key["KPD"])
            load.thread.start()
            wait_for(load, lambda: len(load.answers) >= 20)
            cluster.stop()
            wait_for(load, lambda: 503 in load.statuses())
            during = len(load.answers)
            cluster.start()
            wait_for(load, lambda: any(s == 201 for _, s, _ in load.answers[during:]))
            load.stop.set()
            load.thread.join()
            spooled = wait_for_the_spool(client)
    finally:
        server.kill()

    assert load.statuses() == {201, 503}
    unavailable = [a for _, s, a in load.answers if s == 503]
    assert all(a.headers["Retry-After"] for a in unavailable)
    acknowledged = {case for case, status, _ in load.answers if status == 201}
    assert acknowledged <= stored_cases(settings)
    assert spooled == 0
    entries = logged_opens(settings)
    assert sorted(status for status, _ in entries) == sorted(s for _, s, _ in load.answers)
    assert {status for status, was_spooled in entries if was_spooled} >= {503}


def wait_for(load: Load, condition: Any, limit: int = 100_000) -> None:
    """Bounded by the number of answers seen, never by sleeping."""
    while not condition():
        assert load.thread.is_alive()
        assert len(load.answers) < limit
        load.stop.wait(0.05)


def wait_for_the_spool(client: httpx.Client, rounds: int = 100) -> int:
    """Entries still spooled, once none are or after 100 looks (the server moves them
    before its next batch of entries, so each look's own entry waits for it)."""
    for _ in range(rounds):
        if (left := client.get("/healthz").json()["access_log_spooled"]) == 0:
            break
    return int(left)


def logged_opens(settings: Settings) -> list[tuple[int, bool]]:
    """Each access log entry of an open: its status, and whether it waited in the spool."""
    assert settings.database_url
    with psycopg.connect(settings.database_url) as conn:
        query = "SELECT status, spool_id IS NOT NULL FROM access_log WHERE method = 'POST'"
        return [(status, spooled) for status, spooled in conn.execute(query)]


def stored_cases(settings: Settings) -> set[str]:
    assert settings.database_url
    with psycopg.connect(settings.database_url) as conn:
        rows = conn.execute("SELECT convert_from(state, 'UTF8') FROM mutualaidledger_events")
        return {
            r[0].split('"case_number":"')[1].split('"')[0] for r in rows if "case_number" in r[0]
        }
