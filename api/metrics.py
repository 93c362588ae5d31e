"""Prometheus metrics: requests and latencies per endpoint, commands per type, projection
lag (events and seconds) and stalls, and the size of the event store. Counters are per
process."""

import math
from collections.abc import Iterator
from datetime import UTC, datetime

from fastapi import APIRouter, Request, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from starlette.types import Scope

from app.services import Services

router = APIRouter(tags=["health"])


class Metrics:
    def __init__(self, services: Services) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "mal_http_requests",
            "HTTP requests",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "mal_http_request_seconds",
            "HTTP request latency",
            ["method", "route"],
            registry=self.registry,
        )
        self.commands = Counter(
            "mal_commands", "Commands accepted, by type", ["command"], registry=self.registry
        )
        self.registry.register(StoreCollector(services))


class StoreCollector(Collector):
    """Read at scrape time, from the log and the projections' positions."""

    def __init__(self, services: Services) -> None:
        self.services = services

    def collect(self) -> Iterator[GaugeMetricFamily]:
        recorder = self.services.ledger.recorder
        head = recorder.max_notification_id() or 0
        yield GaugeMetricFamily("mal_event_store_events", "Events in the log", value=head)
        events = GaugeMetricFamily(
            "mal_projection_lag_events", "Events not yet projected", labels=["projection"]
        )
        seconds = GaugeMetricFamily(
            "mal_projection_lag_seconds",
            "Age of the oldest event not yet projected",
            labels=["projection"],
        )
        stalled = GaugeMetricFamily(
            "mal_projection_stalled",
            "1 while the projection is stopped at an event it cannot apply (see /healthz)",
            labels=["projection"],
        )
        for runner in self.services.runners:
            position = runner.position()
            events.add_metric([runner.name], head - position)
            seconds.add_metric([runner.name], self.age_of(position + 1) if position < head else 0.0)
            stalled.add_metric([runner.name], 1.0 if runner.stall() else 0.0)
        yield events
        yield seconds
        yield stalled

    def age_of(self, position: int) -> float:
        """NaN for an event that cannot be decoded: the projection stalls on it, and the
        scrape must still answer."""
        ledger = self.services.ledger
        [oldest] = ledger.recorder.select_notifications(position, 1)
        try:
            event = ledger.mapper.to_domain_event(oldest)
        except Exception:
            return math.nan
        recorded: datetime = getattr(event, "timestamp")  # noqa: B009
        return (datetime.now(UTC) - recorded).total_seconds()


async def count(scope: Scope, status: int, seconds: float) -> None:
    """Count and time the request as its answer starts (see api/answers.py)."""
    metrics: Metrics = scope["app"].state.metrics
    method = scope["method"]
    path, name = route_of(scope)
    metrics.latency.labels(method, path).observe(seconds)
    metrics.requests.labels(method, path, str(status)).inc()
    if method == "POST" and status < 300:
        metrics.commands.labels(name).inc()


def route_of(scope: Scope) -> tuple[str, str]:
    """The matched route's template and name (the router leaves it in the scope), not the
    path, so incident ids do not explode the label space."""
    route = scope.get("route")
    return getattr(route, "path", "unmatched"), getattr(route, "name", "unmatched")


@router.get("/metrics", include_in_schema=False)
def metrics(request: Request) -> Response:
    registry = request.app.state.metrics.registry
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
