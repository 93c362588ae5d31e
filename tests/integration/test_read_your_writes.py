"""Issue 7, must show 3: under concurrent load, a read that passes the position its write
returned always sees that write."""

from concurrent.futures import ThreadPoolExecutor

import httpx

from app.settings import Settings
from tests.api import bodies
from tests.integration.server import ServerProcess
from tests.integration.test_crash_recovery import keys

WRITERS = 8
ROUNDS = 25


def writer(url: str, key: str, n: int) -> list[bool]:
    """Open an incident, then add notes; after each write, read with its position."""
    seen = []
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=url, timeout=30) as client:
        written = client.post(
            "/v1/incidents", json=bodies.open_body(f"K-{n}"), headers=headers
        ).json()
        at = f"/v1/incidents/{written['incident_id']}"
        for round_ in range(ROUNDS):
            params = {"min_position": written["position"]}
            incident = client.get(at, params=params, headers=headers).json()
            seen.append(incident["version"] >= written["version"])
            cancel = bodies.stamped(reason=f"round {round_}")
            body = (
                {**bodies.stamped(), **bodies.request_fields("PPPD")} if round_ % 2 == 0 else cancel
            )
            path = "/requests" if round_ % 2 == 0 else f"/requests/{round_ // 2 + 2}/cancel"
            written = client.post(at + path, json=body, headers=headers).json()
    return seen


def test_a_read_with_the_writes_position_always_sees_the_write(settings: Settings) -> None:
    key = keys(settings)["KPD"]
    server = ServerProcess(settings)
    server.start()
    try:
        with ThreadPoolExecutor(WRITERS) as pool:
            results = list(pool.map(lambda n: writer(server.url, key, n), range(WRITERS)))
    finally:
        server.kill()

    assert all(all(seen) for seen in results)
    assert sum(len(seen) for seen in results) == WRITERS * ROUNDS
