"""Issue 4, must show 2: the same Idempotency-Key sent 20 times at once and 100 times in
sequence stores exactly one set of events; every answer is identical or 409; a different body
with the same key gets 422. Against the real service, on both stores."""

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from app.settings import Settings
from tests.api import bodies
from tests.integration.server import ServerProcess
from tests.integration.test_crash_recovery import keys


@pytest.fixture
def service(settings: Settings) -> Iterator[tuple[httpx.Client, dict[str, str], ServerProcess]]:
    key = keys(settings)
    server = ServerProcess(settings)
    server.start()
    try:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            yield client, key, server
    finally:
        server.kill()


def post(client: httpx.Client, key: str, path: str, body: Any, idempotency: str) -> Any:
    headers = {"Authorization": f"Bearer {key}", "Idempotency-Key": idempotency}
    return client.post(path, json=body, headers=headers)


def log_length(client: httpx.Client, key: str, incident_id: str) -> int:
    history = client.get(
        f"/v1/incidents/{incident_id}/history", headers={"Authorization": f"Bearer {key}"}
    )
    return len(history.json()["events"])


def test_twenty_concurrent_retries_of_an_open_store_one_incident(service: Any) -> None:
    client, key, _ = service
    body = bodies.open_body("K-IDEM-1")

    with ThreadPoolExecutor(20) as pool:
        answers = list(
            pool.map(lambda _: post(client, key["KPD"], "/v1/incidents", body, "k-1"), range(20))
        )

    succeeded = [a for a in answers if a.status_code == 201]
    assert {a.status_code for a in answers} <= {201, 409}
    assert succeeded
    assert all(a.json() == succeeded[0].json() for a in succeeded)
    assert log_length(client, key["KPD auditor"], succeeded[0].json()["incident_id"]) == 2


def test_a_hundred_sequential_retries_get_the_first_answer_and_store_nothing_new(
    service: Any,
) -> None:
    client, key, _ = service
    incident = post(
        client, key["KPD"], "/v1/incidents", bodies.open_body("K-IDEM-2"), "k-open"
    ).json()
    approve = f"/v1/incidents/{incident['incident_id']}/requests/1/approve"
    first = post(client, key["KPD"], approve, bodies.stamped(), "k-approve")

    retries = [post(client, key["KPD"], approve, bodies.stamped(), "k-approve") for _ in range(100)]

    assert first.status_code == 200
    assert all((r.status_code, r.json()) == (200, first.json()) for r in retries)
    assert all(r.headers["ETag"] == first.headers["ETag"] for r in retries)
    assert log_length(client, key["KPD auditor"], incident["incident_id"]) == 3


def test_twenty_concurrent_retries_of_an_update_store_it_once(service: Any) -> None:
    client, key, _ = service
    incident = post(client, key["KPD"], "/v1/incidents", bodies.open_body("K-IDEM-3"), "k-o").json()
    path = f"/v1/incidents/{incident['incident_id']}/requests/1/approve"

    with ThreadPoolExecutor(20) as pool:
        answers = list(
            pool.map(lambda _: post(client, key["KPD"], path, bodies.stamped(), "k-a"), range(20))
        )

    succeeded = [a.json() for a in answers if a.status_code == 200]
    assert {a.status_code for a in answers} <= {200, 409}
    assert succeeded
    assert all(s == succeeded[0] for s in succeeded)
    assert log_length(client, key["KPD auditor"], incident["incident_id"]) == 3


def test_the_same_key_with_a_different_body_is_refused_and_stores_nothing(service: Any) -> None:
    client, key, _ = service
    first = post(client, key["KPD"], "/v1/incidents", bodies.open_body("K-IDEM-4"), "k-4")

    other = post(client, key["KPD"], "/v1/incidents", bodies.open_body("K-IDEM-5"), "k-4")
    listing = client.get(
        "/v1/incidents",
        params={"min_position": first.json()["position"]},
        headers={"Authorization": f"Bearer {key['KPD']}"},
    )

    assert other.status_code == 422
    assert other.json()["type"] == "urn:mutual-aid-ledger:problem:idempotency-key-reused"
    assert [i["case_number"] for i in listing.json()["items"]] == ["K-IDEM-4"]


def test_keys_are_scoped_to_the_callers_agency(service: Any) -> None:
    client, key, _ = service
    kpd = post(client, key["KPD"], "/v1/incidents", bodies.open_body("K-IDEM-6"), "shared")
    kcsd_body = {**bodies.open_body("S-1", asked="KPD"), "kind": "emergency"}

    kcsd = post(client, key["KCSD"], "/v1/incidents", kcsd_body, "shared")

    assert (kpd.status_code, kcsd.status_code) == (201, 201)
    assert kpd.json()["incident_id"] != kcsd.json()["incident_id"]
