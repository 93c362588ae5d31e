"""A started API process tunes Python's cycle collector (app.services.tune_garbage_collector):
without it, full collections over the aggregate cache took 8% of a command's CPU in-process
and stalled the event loop for about 100 ms each (bench/RESULTS.md). A start-up that fails
part way closes what it had started (app.main.create_app's lifespan)."""

import gc
import threading

import pytest
from fastapi.testclient import TestClient

import app.main
from app.services import Services
from app.settings import Settings
from tests.api.conftest import Service


def test_a_started_api_collects_cycles_rarely_and_skips_what_start_up_built(
    sqlite_service: Service,
) -> None:
    assert sqlite_service.client.get("/healthz").status_code == 200
    assert gc.get_threshold()[0] == 20_000
    assert gc.get_freeze_count() > 0


def test_a_start_up_that_fails_after_building_the_services_closes_them(
    sqlite_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    def running() -> list[str]:
        return [
            t.name for t in threading.enumerate() if t.name in ("wal-checkpoints", "access-log")
        ]

    before = running()

    def failing_metrics(_services: Services) -> None:
        assert sorted(running()) == sorted([*before, "access-log", "wal-checkpoints"])
        raise RuntimeError("a start-up step failed")

    monkeypatch.setattr(app.main, "Metrics", failing_metrics)
    with (
        pytest.raises(RuntimeError, match="a start-up step failed"),
        TestClient(app.main.create_app(sqlite_settings)),
    ):
        pass
    assert running() == before
