"""Bounded requests: oversized bodies get 413 before any processing; pages and queries are
bounded."""

from collections.abc import Iterator

import sqlalchemy as sa

from tests.api import bodies
from tests.api.conftest import Service

TOO_LARGE = "urn:mutual-aid-ledger:problem:body-too-large"


def test_a_body_over_the_limit_gets_413_and_stores_nothing(sqlite_service: Service) -> None:
    kpd = sqlite_service.cad("KPD")
    body = bodies.open_body(nature="x" * 300_000)

    answer = kpd.post("/v1/incidents", body)

    assert (answer.status_code, answer.json()["type"]) == (413, TOO_LARGE)
    assert sqlite_service.log_length() == 0


def test_a_streamed_body_without_length_is_cut_off_at_the_limit(sqlite_service: Service) -> None:
    kpd = sqlite_service.cad("KPD")

    def chunks() -> Iterator[bytes]:
        yield b'{"case_number": "K-1", "nature": "'
        for _ in range(100):
            yield b"y" * 10_000
        yield b'"}'

    answer = sqlite_service.client.post(
        "/v1/incidents",
        content=chunks(),
        headers={**kpd.headers(), "Content-Type": "application/json"},
    )

    assert answer.status_code == 413
    assert sqlite_service.log_length() == 0


def test_a_page_is_never_larger_than_the_configured_maximum(sqlite_service: Service) -> None:
    kpd = sqlite_service.cad("KPD")

    too_many = kpd.get("/v1/incidents", limit=100_000)

    assert too_many.status_code == 422


def test_postgres_read_queries_carry_a_statement_timeout(service: Service) -> None:
    with service.services.read_models.connect() as conn:
        dialect = conn.dialect.name
        timeout = (
            conn.execute(sa.text("SHOW statement_timeout")).scalar()
            if dialect == "postgresql"
            else "5s"
        )

    assert timeout == "5s"
