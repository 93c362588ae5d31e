"""Must show 3: killing the service between writes loses no acknowledged event, and the
projections catch up exactly once after each restart."""

import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.keys import create_key
from app.principals import Role
from app.services import Services, build_services
from app.settings import Settings
from domain.incident import Incident
from tests.api import bodies
from tests.integration.server import ServerProcess
from tests.integration.test_projections import dump

WRITES = 24
KILL_EVERY = 4


@pytest.fixture
def server(settings: Settings) -> Iterator[ServerProcess]:
    process = ServerProcess(settings)
    yield process
    if process.process and process.process.poll() is None:
        process.kill()


def keys(settings: Settings) -> dict[str, str]:
    """A CAD key for KPD and KCSD, and their auditors' keys as "KPD auditor" and so on."""
    services = build_services(settings)
    try:
        found = {a: create_key(services.read_models, a, "crash test") for a in ("KPD", "KCSD")}
        for a in ("KPD", "KCSD"):
            found[f"{a} auditor"] = create_key(services.read_models, a, "", role=Role.AUDITOR)
        return found
    finally:
        services.close()


def write(client: httpx.Client, key: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
    answer = client.post(path, json=body, headers={"Authorization": f"Bearer {key}"})
    assert answer.status_code in (200, 201), answer.text
    acknowledged: dict[str, Any] = answer.json()
    return acknowledged


def one_step(client: httpx.Client, key: dict[str, str], n: int) -> dict[str, Any]:
    """Alternate opening incidents and approving the one just opened."""
    if n % 2 == 0:
        return write(client, key["KPD"], "/v1/incidents", bodies.open_body(f"K-{n}"))
    incident_id = Incident.create_id("KPD", f"K-{n - 1}")
    return write(
        client, key["KPD"], f"/v1/incidents/{incident_id}/requests/1/approve", bodies.stamped()
    )


def check_log_holds(services: Services, acknowledged: list[dict[str, Any]]) -> None:
    for ack in acknowledged:
        [notification] = services.ledger.recorder.select_notifications(ack["position"], 1)
        assert notification.id == ack["position"]
        assert str(notification.originator_id) == ack["incident_id"]
        assert notification.originator_version == ack["version"]


def test_killed_service_loses_no_acknowledged_write_and_projects_each_event_once(
    settings: Settings, server: ServerProcess
) -> None:
    key = keys(settings)
    acknowledged: list[dict[str, Any]] = []
    server.start()
    for n in range(WRITES):
        with httpx.Client(base_url=server.url, timeout=10) as client:
            acknowledged.append(one_step(client, key, n))
        if n % KILL_EVERY == KILL_EVERY - 1:
            server.kill()
            server.start()
    last = acknowledged[-1]["position"]
    with httpx.Client(base_url=server.url, timeout=10) as client:
        caught_up = client.get(
            "/v1/incidents",
            params={"min_position": last},
            headers={"Authorization": f"Bearer {key['KCSD']}"},
        )
    server.kill()

    assert caught_up.status_code == 200
    assert len(caught_up.json()["items"]) == WRITES // 2
    services = build_services(settings)
    try:
        check_log_holds(services, acknowledged)
        assert services.projection.position() == last
        live = dump(services)
        services.projection.rebuild()
        assert dump(services) == live
    finally:
        services.close()


def test_the_server_stops_when_its_projection_worker_dies(sqlite_settings: Settings) -> None:
    """Else it would take writes that no read ever shows; its service manager restarts it.
    uvicorn shuts down gracefully, then ends by the signal it caught."""
    server = ServerProcess(sqlite_settings)
    server.start()
    assert server.process is not None
    tasks = Path(f"/proc/{server.process.pid}/task").glob("*/children")
    [worker] = [int(pid) for task in tasks for pid in task.read_text().split()]

    os.kill(worker, signal.SIGKILL)

    assert server.wait(timeout=60) == -signal.SIGTERM
    assert any("projection worker exited" in line for line in server.log)
