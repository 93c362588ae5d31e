"""A started API process tunes Python's cycle collector (app.services.tune_garbage_collector):
without it, full collections over the aggregate cache took 8% of a command's CPU in-process
and stalled the event loop for about 100 ms each (bench/RESULTS.md)."""

import gc

from tests.api.conftest import Service


def test_a_started_api_collects_cycles_rarely_and_skips_what_start_up_built(
    sqlite_service: Service,
) -> None:
    assert sqlite_service.client.get("/healthz").status_code == 200
    assert gc.get_threshold()[0] == 20_000
    assert gc.get_freeze_count() > 0
