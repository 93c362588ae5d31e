"""Issue 7: metrics in Prometheus format."""

import math
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from domain.incident import Incident
from tests.api.conftest import Service
from tests.api.test_full_incident_lifecycle import run_lifecycle


def scrape(service: Service) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = service.client.get("/metrics").text
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_metrics_count_requests_commands_and_the_store(sqlite_service: Service) -> None:
    kpd = sqlite_service.cad("KPD")
    _, position = run_lifecycle(kpd, sqlite_service.cad("KCSD"), sqlite_service.cad("PPPD"))
    for runner in sqlite_service.services.runners:
        assert runner.wait_for(position, timeout=10)

    found = scrape(sqlite_service)

    assert found[("mal_commands_total", (("command", "approve"),))] == 2
    assert found[("mal_commands_total", (("command", "open_incident"),))] == 1
    route = (("method", "POST"), ("route", "/v1/incidents"), ("status", "201"))
    assert found[("mal_http_requests_total", route)] == 1
    assert found[("mal_event_store_events", ())] == position
    assert found[("mal_projection_lag_events", (("projection", "incidents"),))] == 0
    assert found[("mal_projection_lag_seconds", (("projection", "seals"),))] == 0
    assert found[("mal_projection_stalled", (("projection", "incidents"),))] == 0


def test_a_stalled_projection_shows_in_the_metrics_even_on_an_event_that_cannot_be_decoded(
    sqlite_service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger = sqlite_service.services.ledger
    original = ledger.mapper.to_domain_event

    def undecodable(notification: Any) -> Any:
        event = original(notification)
        if isinstance(event, Incident.IncidentClosed):
            raise ValueError("no upcaster for this version")
        return event

    monkeypatch.setattr(ledger.mapper, "to_domain_event", undecodable)  # for the scrape
    monkeypatch.setattr(sqlite_service.services.projection, "_decode", undecodable)
    run_lifecycle(sqlite_service.cad("KPD"), sqlite_service.cad("KCSD"), sqlite_service.cad("PPPD"))
    with pytest.raises(ValueError, match="no upcaster"):
        sqlite_service.services.projection.run_until_caught_up()

    found = scrape(sqlite_service)

    assert found[STALLED] == 1
    assert math.isnan(found[("mal_projection_lag_seconds", (("projection", "incidents"),))])
    assert found[("mal_projection_lag_events", (("projection", "incidents"),))] > 0


STALLED = ("mal_projection_stalled", (("projection", "incidents"),))
