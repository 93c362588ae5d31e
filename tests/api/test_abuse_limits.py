"""Issue 6 (part): failed authentication locks a source out after 5 failures for at least 10
minutes; each key has a request rate limit; both answer 429 with Retry-After."""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from api import guard as guard_module
from api.guard import FAILURES_ALLOWED, NO_KEY_PER_MINUTE, WINDOW_SECONDS, AuthGuard
from app.access_log import access_log
from app.keys import RecentKeys, create_key
from app.main import create_app
from app.settings import Settings

TOO_MANY = "urn:mutual-aid-ledger:problem:too-many-requests"


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def client(tmp_path: Path) -> Iterator[tuple[TestClient, Clock, str]]:
    app = create_app(Settings(data_dir=tmp_path, rate_limit_per_minute=10))
    with TestClient(app) as test_client:
        clock = Clock()
        app.state.guard = AuthGuard(10, clock)
        app.state.keys = RecentKeys(app.state.services.read_models, clock=clock)
        key = create_key(app.state.services.read_models, "KPD", "test")
        yield test_client, clock, key


def test_five_failures_lock_the_source_out_for_ten_minutes(
    client: tuple[TestClient, Clock, str],
) -> None:
    test_client, clock, key = client
    bad = {"Authorization": "Bearer wrong"}
    failures = [test_client.get("/v1/incidents", headers=bad).status_code for _ in range(5)]

    locked = test_client.get("/v1/incidents", headers={"Authorization": f"Bearer {key}"})
    clock.now += 599
    still = test_client.get("/v1/incidents", headers={"Authorization": f"Bearer {key}"})
    clock.now += 2
    after = test_client.get("/v1/incidents", headers={"Authorization": f"Bearer {key}"})

    assert failures == [401] * 5
    assert (locked.status_code, locked.json()["type"]) == (429, TOO_MANY)
    assert int(locked.headers["Retry-After"]) == 600
    assert still.status_code == 429
    assert after.status_code == 200


def test_a_key_beyond_its_rate_gets_429_then_recovers(
    client: tuple[TestClient, Clock, str],
) -> None:
    test_client, clock, key = client
    headers = {"Authorization": f"Bearer {key}"}

    within = [test_client.get("/v1/agencies", headers=headers).status_code for _ in range(10)]
    beyond = test_client.get("/v1/agencies", headers=headers)
    clock.now += 6  # one request's worth of tokens at 10 a minute
    again = test_client.get("/v1/agencies", headers=headers)

    assert within == [200] * 10
    assert (beyond.status_code, beyond.json()["type"]) == (429, TOO_MANY)
    assert int(beyond.headers["Retry-After"]) == 6
    assert again.status_code == 200


def test_requests_without_any_key_do_not_lock_the_source_out(
    client: tuple[TestClient, Clock, str],
) -> None:
    test_client, _, key = client

    missing = [test_client.get("/v1/incidents").status_code for _ in range(10)]
    after = test_client.get("/v1/incidents", headers={"Authorization": f"Bearer {key}"})

    assert missing == [401] * 10
    assert after.status_code == 200


def test_with_lockout_off_wrong_keys_are_refused_but_never_lock_out() -> None:
    guard = AuthGuard(10, Clock(), lockout=False)

    for _ in range(10):
        guard.failed("10.0.0.1")

    guard.check_source("10.0.0.1")


def test_the_guard_forgets_sources_once_their_failures_and_lockouts_are_over() -> None:
    """A scanner spraying addresses leaves nothing behind for good."""
    clock = Clock()
    guard = AuthGuard(10, clock)
    for n in range(1_000):
        guard.failed(f"10.0.{n // 256}.{n % 256}")
    for _ in range(FAILURES_ALLOWED):
        guard.failed("10.9.9.9")  # locked out
    clock.now += WINDOW_SECONDS + 1

    guard.failed("10.9.9.8")

    assert len(guard._failures) == 1
    assert len(guard._locked_until) == 0
    guard.check_source("10.9.9.9")  # the lockout (10 minutes) is over


def test_the_guard_remembers_at_most_max_sources(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(guard_module, "MAX_SOURCES", 100)
    guard = AuthGuard(10, Clock())
    for n in range(1_000):
        guard.failed(f"10.0.{n // 256}.{n % 256}")

    assert len(guard._failures) == 100


def test_a_key_that_has_ended_is_refused_like_a_wrong_one_but_never_locks_the_source_out(
    client: tuple[TestClient, Clock, str],
) -> None:
    test_client, _, key = client
    engine = test_client.app.state.services.read_models  # type: ignore[attr-defined]
    ended = create_key(engine, "KPD", "rotated out", valid_for=timedelta(seconds=-1))

    refused = [test_client.get("/v1/incidents", headers=bearer(ended)) for _ in range(10)]
    wrong = test_client.get("/v1/incidents", headers=bearer("mal_wrong"))
    after = test_client.get("/v1/incidents", headers=bearer(key))

    assert [r.status_code for r in refused] == [401] * 10
    assert refused[-1].json() == wrong.json()
    assert refused[-1].headers["WWW-Authenticate"] == wrong.headers["WWW-Authenticate"]
    assert after.status_code == 200


def test_a_key_that_has_ended_is_looked_up_once_in_five_seconds_however_often_it_is_sent(
    client: tuple[TestClient, Clock, str],
) -> None:
    test_client, clock, _ = client
    engine = test_client.app.state.services.read_models  # type: ignore[attr-defined]
    ended = create_key(engine, "KPD", "revoked", valid_for=timedelta(seconds=-1))

    with key_lookups(engine) as lookups:
        refused = [test_client.get("/v1/incidents", headers=bearer(ended)) for _ in range(10)]
        within = len(lookups)
        clock.now += 5
        again = test_client.get("/v1/incidents", headers=bearer(ended))

    assert [r.status_code for r in [*refused, again]] == [401] * 11
    assert (within, len(lookups)) == (1, 2)


@contextmanager
def key_lookups(engine: Engine) -> Iterator[list[str]]:
    """The statements that read the keys' table while inside."""
    lookups: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if "FROM api_keys" in statement:
            lookups.append(statement)

    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        yield lookups
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_requests_without_a_key_have_a_budget_per_source_beyond_which_none_is_logged(
    client: tuple[TestClient, Clock, str],
) -> None:
    test_client, clock, key = client
    services = test_client.app.state.services  # type: ignore[attr-defined]
    answers = [test_client.get(f"/scan/{n}").status_code for n in range(NO_KEY_PER_MINUTE)]

    refused = test_client.get("/v1/incidents")
    with_key = test_client.get("/v1/incidents", headers={"Authorization": f"Bearer {key}"})
    clock.now += 60 / NO_KEY_PER_MINUTE
    refilled = test_client.get("/healthz")

    with services.access_log.connect() as conn:
        paths = conn.execute(sa.select(access_log.c.path)).scalars().all()
    assert answers == [404] * NO_KEY_PER_MINUTE
    assert (refused.status_code, refused.json()["type"]) == (429, TOO_MANY)
    assert refused.headers["Retry-After"] == "1"
    assert with_key.status_code == 200
    assert refilled.status_code == 200
    assert len(paths) == NO_KEY_PER_MINUTE + 2  # not the refusal
