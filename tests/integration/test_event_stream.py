"""Issue 7, must show 1: a client that disconnects at random points while 2,000 events are
written, and resumes with Last-Event-ID, receives every event exactly once, in order, across
reconnects and a server restart; and an agency receives only the events of incidents it is a
party to. A key revoked while its stream runs ends the stream."""

import itertools
import random
import threading

import httpx
import pytest

from app.keys import ID_LENGTH, create_key, hash_key
from app.principals import Role
from app.services import build_services
from app.settings import Settings
from tests.api import bodies
from tests.integration.server import ServerProcess
from tests.integration.test_crash_recovery import keys
from tests.scenarios import open_incident

INCIDENTS = 500  # four events each: 2,000 events


def write_load(url: str, key: dict[str, str]) -> None:
    kpd, kcsd = ({"Authorization": f"Bearer {key[a]}"} for a in ("KPD", "KCSD"))
    with httpx.Client(base_url=url, timeout=30) as client:
        for n in range(INCIDENTS):
            opened = client.post("/v1/incidents", json=bodies.open_body(f"K-{n}"), headers=kpd)
            at = f"/v1/incidents/{opened.json()['incident_id']}"
            client.post(at + "/requests/1/approve", json=bodies.stamped(), headers=kpd)
            client.post(at + "/requests/1/respond", json=bodies.respond_body(), headers=kcsd)


def read_with_disconnects(url: str, key: str, stop_after: int, start: int = 0) -> list[int]:
    """Reconnect with Last-Event-ID after a random number of events, until ``stop_after``."""
    rng, seen = random.Random(7), [start]
    while seen[-1] < stop_after:
        headers = {"Authorization": f"Bearer {key}", "Last-Event-ID": str(seen[-1])}
        budget = rng.randint(1, 300)
        with httpx.stream("GET", url + "/v1/stream", headers=headers, timeout=30) as answer:
            for line in answer.iter_lines():
                if line.startswith("id: "):
                    seen.append(int(line[4:]))
                    budget -= 1
                if budget == 0 or seen[-1] >= stop_after:
                    break
    return seen[1:]


def test_a_client_resuming_with_last_event_id_gets_every_event_once_in_order(
    sqlite_settings: Settings,
) -> None:
    key = keys(sqlite_settings)
    server = ServerProcess(sqlite_settings)
    server.start()
    writer = threading.Thread(target=write_load, args=(server.url, key))
    writer.start()
    try:
        first = read_with_disconnects(server.url, key["KCSD"], stop_after=500)
        writer.join()
        server.kill()  # the rest is read from a restarted server
        server.start()
        services = build_services(sqlite_settings)
        head = services.ledger.recorder.max_notification_id() or 0
        services.close()
        rest = read_with_disconnects(server.url, key["KCSD"], stop_after=head, start=first[-1])
    finally:
        writer.join()
        server.kill()

    received = first + rest
    assert head >= 2_000
    assert received == list(range(1, head + 1))


def test_an_agency_receives_only_events_of_incidents_it_is_party_to(
    sqlite_settings: Settings,
) -> None:
    key = keys(sqlite_settings)
    services = build_services(sqlite_settings)
    outsider = create_key(services.read_models, "RACINE-PD", "stream test")
    services.close()
    server = ServerProcess(sqlite_settings)
    server.start()
    try:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            headers = {"Authorization": f"Bearer {key['KPD']}"}
            client.post("/v1/incidents", json=bodies.open_body("K-1"), headers=headers)
            own = client.post(
                "/v1/incidents", json=bodies.open_body("K-2", asked="RACINE-PD"), headers=headers
            ).json()
        seen = read_with_disconnects(server.url, outsider, stop_after=own["position"])
    finally:
        server.kill()

    assert seen == [3, 4]


def test_a_key_revoked_while_its_stream_runs_ends_the_stream(sqlite_settings: Settings) -> None:
    key = keys(sqlite_settings)
    services = build_services(sqlite_settings)
    admin = create_key(services.read_models, "KCSD", "key officer", role=Role.ADMIN)
    services.close()
    server = ServerProcess(sqlite_settings)
    server.start()
    try:
        with (
            httpx.Client(base_url=server.url, timeout=30) as client,
            httpx.stream(
                "GET", server.url + "/v1/stream", headers=bearer(key["KCSD"]), timeout=30
            ) as stream,
        ):
            lines = stream.iter_lines()
            assert next(lines) == ": idle"
            # Through the admin API, so the server forgets the key at once (another
            # process's revocation is noticed within RecentKeys' 5 seconds).
            key_id = hash_key(key["KCSD"])[:ID_LENGTH]
            client.post(f"/v1/admin/keys/{key_id}/revoke", headers=bearer(admin))
            assert client.get("/v1/incidents", headers=bearer(key["KCSD"])).status_code == 401
            opened = client.post(
                "/v1/incidents", json=bodies.open_body(), headers=bearer(key["KPD"])
            )
            seen = []
            for line in lines:  # ends with the stream; without the check it never would
                if line.startswith("id: "):
                    seen.append(int(line[4:]))
                    if seen[-1] == opened.json()["position"]:
                        break
    finally:
        server.kill()

    assert seen == []


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.mark.parametrize("writer", ["this server", "another process"])
def test_a_waiting_stream_is_woken_by_a_write_not_by_its_own_next_look(
    sqlite_settings: Settings, writer: str
) -> None:
    """Its own look comes once a minute here: the event arriving well before that shows the
    write woke the stream, from this server's ledger or through its log watch."""
    key = keys(sqlite_settings)
    server = ServerProcess(sqlite_settings, MAL_STREAM_POLL_SECONDS="60")
    server.start()
    try:
        headers = {"Authorization": f"Bearer {key['KPD']}"}
        with httpx.stream("GET", server.url + "/v1/stream", headers=headers, timeout=20) as live:
            lines = live.iter_lines()
            assert next(lines) == ": idle"  # it looked, found nothing, and waits
            if writer == "this server":
                opened = httpx.post(
                    server.url + "/v1/incidents", json=bodies.open_body("K-1"), headers=headers
                )
                assert opened.status_code == 201, opened.text
            else:
                services = build_services(sqlite_settings)
                open_incident(services.ledger, "K-1")
                services.close()
            # Until the write is projected: meanwhile a stream that looked by itself every
            # 100 ms, as it used to, would have said so.
            projected = httpx.get(
                server.url + "/v1/incidents", params={"min_position": 2}, headers=headers
            )
            assert projected.status_code == 200, projected.text
            before = list(itertools.takewhile(lambda line: not line.startswith("id: "), lines))
    finally:
        server.kill()

    assert [line for line in before if line] == []  # no look of its own, no keep-alive
