"""A read of several statements sees the read model as of one moment, not a projection batch
committed between two of its statements."""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from fastapi.testclient import TestClient

from app.keys import create_key
from app.ledger import Context
from app.main import create_app
from app.services import Services
from app.settings import Settings
from projections.queries import snapshot, statistics_rows
from projections.statistics import agency_statistics
from tests.scenarios import RESPONDER, T0, open_incident, partial_response

PERIOD = (T0 - timedelta(days=1), T0 + timedelta(days=1))


def test_the_statistics_see_a_response_whole_or_not_at_all(services: Services) -> None:
    incident = open_incident(services.ledger, "S-1")
    services.projection.run_until_caught_up()  # the request, unanswered
    answer = Context(RESPONDER, T0 + timedelta(minutes=5))
    services.ledger.respond(incident, 1, partial_response(), answer).result()

    with (
        projected_after_the_first_read(services),
        snapshot(services.read_models) as conn,
    ):
        rows = statistics_rows(conn, "KCSD", *PERIOD)
    figures = agency_statistics("KCSD", rows.requests, rows.officers, rows.withdrawn_at, NOW)

    assert (figures["requests_received"], figures["officers_sent"]) == (1, 0)  # as before it
    assert services.projection.position() == services.ledger.recorder.max_notification_id()


NOW = datetime(2026, 11, 2, tzinfo=UTC)


@contextmanager
def projected_after_the_first_read(services: Services) -> Iterator[None]:
    """Projects what is waiting right after the first read of the requests: the response and
    its officers commit between the read of the requests and that of their officers."""
    done: list[bool] = []

    def project(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.startswith("SELECT") and "assistance_requests" in statement and not done:
            done.append(True)
            services.projection.run_until_caught_up()

    sa.event.listen(services.read_models, "after_cursor_execute", project)
    try:
        yield
    finally:
        sa.event.remove(services.read_models, "after_cursor_execute", project)


def test_the_statistics_endpoint_reads_one_snapshot(tmp_path: Path) -> None:
    """The endpoint answered 500 (a TypeError) when the batch came in between."""
    app = create_app(Settings(data_dir=tmp_path, run_projections=False))
    with TestClient(app) as client:
        services: Services = app.state.services
        key = create_key(services.read_models, "KCSD", "board")
        incident = open_incident(services.ledger, "S-2")
        services.projection.run_until_caught_up()
        answer = Context(RESPONDER, T0 + timedelta(minutes=5))
        services.ledger.respond(incident, 1, partial_response(), answer).result()

        with projected_after_the_first_read(services):
            read = client.get(
                "/v1/statistics",
                params={"start": PERIOD[0].isoformat(), "end": PERIOD[1].isoformat()},
                headers={"Authorization": f"Bearer {key}"},
            )

    assert read.status_code == 200, read.text
    assert read.json()["officers_sent"] == 0
