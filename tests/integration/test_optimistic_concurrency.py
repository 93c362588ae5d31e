"""Issue 4, must show 1: 50 concurrent writes on one incident with the same If-Match: exactly
one succeeds, the rest get 412, and the version rises by exactly one; 20 rounds."""

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from app.settings import Settings
from tests.api import bodies
from tests.integration.server import ServerProcess
from tests.integration.test_crash_recovery import keys

WRITERS = 50
ROUNDS = 20


def note(n: int) -> dict[str, Any]:
    return bodies.stamped(bodies.AFTER_RESPONSE, involvement=f"note {n}", observations="")


def test_one_write_per_version_wins_and_the_rest_get_412(settings: Settings) -> None:
    key = keys(settings)
    server = ServerProcess(settings)
    server.start()
    try:
        with httpx.Client(base_url=server.url, timeout=60) as client:
            rounds = run_rounds(client, key)
    finally:
        server.kill()

    for statuses, before, after in rounds:
        assert sorted(statuses) == [200] + [412] * (WRITERS - 1)
        assert after == before + 1


def run_rounds(client: httpx.Client, key: dict[str, str]) -> list[tuple[list[int], int, int]]:
    kpd, kcsd, auditor = (
        {"Authorization": f"Bearer {key[a]}"} for a in ("KPD", "KCSD", "KCSD auditor")
    )
    incident = client.post("/v1/incidents", json=bodies.open_body("K-ETAG"), headers=kpd).json()
    at = f"/v1/incidents/{incident['incident_id']}"
    client.post(at + "/requests/1/approve", json=bodies.stamped(), headers=kpd)
    responded = client.post(at + "/requests/1/respond", json=bodies.respond_body(), headers=kcsd)
    version = responded.json()["version"]
    rounds = []
    for _ in range(ROUNDS):

        def attempt(n: int, seen: int = version) -> int:
            headers = {**kcsd, "If-Match": f'"{seen}"'}
            path = at + "/requests/1/officers/D-101/involvement"
            return client.post(path, json=note(n), headers=headers).status_code

        with ThreadPoolExecutor(WRITERS) as pool:
            statuses = list(pool.map(attempt, range(WRITERS)))
        after = int(client.get(at + "/history", headers=auditor).json()["events"][-1]["version"])
        rounds.append((statuses, version, after))
        version = after
    return rounds
