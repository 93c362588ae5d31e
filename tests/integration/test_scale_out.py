"""Issue 4, must show 3 and 4: two API processes and a projection worker on PostgreSQL under
concurrent load, killed with SIGKILL again and again. CAD clients retry every failed command
with the same Idempotency-Key, as they do on timeouts.

Checked afterwards: every acknowledged write is in the log, no command was applied twice,
every incident's versions are contiguous, and the projections equal a full rebuild and the
counts derived from the log. About a minute and a half on a 2-core machine."""

import os
import signal
import subprocess
import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from app.services import build_services
from app.settings import Settings
from projections.tables import assistance_requests, incidents, officers
from tests.api import bodies
from tests.integration.server import CLI, environment
from tests.integration.test_crash_recovery import keys
from tests.integration.test_projections import dump
from tests.postgres import free_port

pytestmark = pytest.mark.postgres
CLIENTS = 8


class Deployment:
    """`mutual-aid serve --workers 2` plus one `mutual-aid project`, each in its own process
    group so a kill takes the whole thing down at once, as a crashed host would."""

    def __init__(self, settings: Settings) -> None:
        self.env = {**environment(settings), "MAL_RUN_PROJECTIONS": "false"}
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.processes: list[subprocess.Popen[bytes]] = []

    def start(self) -> None:
        serve = [CLI, "serve", "--workers", "2", "--port", str(self.port)]
        for command in (serve, [CLI, "project"]):
            self.processes.append(
                subprocess.Popen(
                    command,
                    env=self.env,
                    start_new_session=True,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )

    def kill(self) -> None:
        for process in self.processes:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        self.processes.clear()


class Cad:
    """One dispatcher's CAD: runs incidents one after another, retrying each command with
    the same Idempotency-Key until it is acknowledged."""

    def __init__(self, url: str, keys: dict[str, str], stop: threading.Event) -> None:
        self.client = httpx.Client(base_url=url, timeout=30)
        self.keys, self.stop = keys, stop
        self.acknowledged: list[dict[str, Any]] = []

    def send(self, agency: str, path: str, body: dict[str, Any], key: str) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {self.keys[agency]}", "Idempotency-Key": key}
        for _ in range(2000):
            try:
                answer = self.client.post(path, json=body, headers=headers)
            except httpx.TransportError:
                self.stop.wait(0.05)
                continue
            if answer.status_code in (200, 201):
                self.acknowledged.append(answer.json())
                return dict(answer.json())
            assert answer.status_code in (409, 503), answer.text
            self.stop.wait(0.05)
        raise AssertionError(f"{path} never succeeded")

    def incident(self, case: str) -> None:
        opened = self.send("KPD", "/v1/incidents", bodies.open_body(case), f"{case}-open")
        at = f"/v1/incidents/{opened['incident_id']}"
        self.send("KPD", at + "/requests/1/approve", bodies.stamped(), f"{case}-approve")
        self.send("KCSD", at + "/requests/1/respond", bodies.respond_body(), f"{case}-respond")
        later = bodies.AFTER_RESPONSE
        one = [{"resource": "patrol_officer", "quantity": 1}]
        recall = bodies.stamped(later, resources=one, officers=["D-102"], reason="needed")
        self.send("KCSD", at + "/requests/1/recall", recall, f"{case}-recall")
        note = bodies.stamped(later, involvement="held the line", observations="")
        self.send("KCSD", at + "/requests/1/officers/D-101/involvement", note, f"{case}-note")
        close = bodies.stamped(later, outcome="dispersed", release_all=True)
        self.send("KPD", at + "/close", close, f"{case}-close")


COMMANDS_PER_INCIDENT = 6
EVENTS_PER_INCIDENT = 8


@pytest.fixture
def deployment(postgres_url: str, tmp_path: Path) -> Iterator[tuple[Settings, Deployment]]:
    settings = Settings(database_url=postgres_url, data_dir=tmp_path)
    build_services(settings).close()  # migrate once, before the processes race to do it
    running = Deployment(settings)
    try:
        yield settings, running
    finally:
        running.kill()


COMMANDS = 5_000
KILLS = 10


def test_killed_processes_under_load_lose_nothing_and_duplicate_nothing(
    deployment: tuple[Settings, Deployment],
) -> None:
    commands, kills = COMMANDS, KILLS
    settings, running = deployment
    incidents_total = commands // COMMANDS_PER_INCIDENT
    cads = run_load(settings, running, incidents_total, kills)

    last = max(a["position"] for cad in cads for a in cad.acknowledged)
    services = build_services(settings)
    try:
        running.start()
        assert services.projection.wait_for(last, timeout=120)
        running.kill()
        check_log(services, cads, incidents_total)
        check_projections(services, incidents_total)
    finally:
        services.close()


def run_load(settings: Settings, running: Deployment, total: int, kills: int) -> list[Cad]:
    key = keys(settings)
    stop = threading.Event()
    cads = [Cad(running.url, key, stop) for _ in range(CLIENTS)]

    def incidents(cad: Cad, n: int) -> None:
        for i in range(total // CLIENTS):
            cad.incident(f"K-{n}-{i}")

    running.start()
    with ThreadPoolExecutor(CLIENTS) as pool:
        work = [pool.submit(incidents, cad, n) for n, cad in enumerate(cads)]
        acknowledged = 0
        for _ in range(kills):
            acknowledged += total * COMMANDS_PER_INCIDENT // (kills + 1)
            while sum(len(c.acknowledged) for c in cads) < acknowledged and not all(
                w.done() for w in work
            ):
                stop.wait(0.05)
            running.kill()
            running.start()
        for done in work:
            done.result()
    running.kill()
    for cad in cads:
        cad.client.close()
    return cads


def check_log(services: Any, cads: list[Cad], total: int) -> None:
    notifications = services.ledger.recorder.select_notifications(1, 10_000_000)
    versions: dict[Any, list[int]] = {}
    for n in notifications:
        versions.setdefault(n.originator_id, []).append(n.originator_version)
    assert len(versions) == total // CLIENTS * CLIENTS
    assert all(v == list(range(1, len(v) + 1)) for v in versions.values())
    assert len(notifications) == len(versions) * EVENTS_PER_INCIDENT
    stored = {(n.originator_id.hex, n.originator_version): n.id for n in notifications}
    for cad in cads:
        for ack in cad.acknowledged:
            key = (ack["incident_id"].replace("-", ""), ack["version"])
            assert stored[key] == ack["position"]


def check_projections(services: Any, total: int) -> None:
    live = dump(services)
    with services.read_models.connect() as conn:
        counts = Counter(
            {
                t.name: conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
                for t in (incidents, assistance_requests, officers)
            }
        )
    created = total // CLIENTS * CLIENTS
    listed = 3 * created  # two deputies sent and the officer in charge, per response
    assert counts == Counter(
        {"incidents": created, "assistance_requests": created, "officers": listed}
    )
    services.projection.rebuild()
    assert dump(services) == live
