"""Issue 6 (part): every request, allowed or refused, is in the append-only access log, and
reading the log is itself logged."""

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from api.access import MAX_PATH
from app.access_log import access_log, commit_entries
from app.migrations import upgrade_to_head
from app.services import build_services, read_model_engine
from app.settings import Settings
from tests.api import bodies
from tests.api.conftest import Service


def logged(service: Service) -> list[tuple[str | None, str | None, str, str, int]]:
    with service.services.access_log.connect() as conn:
        rows = conn.execute(sa.select(access_log).order_by(access_log.c.id)).mappings()
        return [(r["agency"], r["role"], r["method"], r["path"], r["status"]) for r in rows]


def test_every_request_allowed_or_refused_is_logged_with_who_and_outcome(service: Service) -> None:
    kpd = service.cad("KPD")
    opened = kpd.post("/v1/incidents", bodies.open_body()).json()
    incident = opened["incident_id"]
    kpd.get(f"/v1/incidents/{incident}", min_position=opened["position"])
    service.client.get("/v1/incidents")  # no key
    service.cad("RACINE-PD").get(f"/v1/incidents/{incident}")  # not a party
    kpd.post(f"/v1/incidents/{incident}/close", {"outcome": "x"})  # invalid body

    kpd.get("/v1/access-log")  # a CAD key may not read it
    auditor = service.auditor("KPD")
    own = auditor.get("/v1/access-log").json()
    everyone = service.state_auditor().get("/v1/access-log").json()

    assert logged(service) == [
        ("KPD", "cad", "POST", "/v1/incidents", 201),
        ("KPD", "cad", "GET", f"/v1/incidents/{incident}", 200),
        (None, None, "GET", "/v1/incidents", 401),
        ("RACINE-PD", "cad", "GET", f"/v1/incidents/{incident}", 404),
        ("KPD", "cad", "POST", f"/v1/incidents/{incident}/close", 422),
        ("KPD", "cad", "GET", "/v1/access-log", 403),
        ("KPD", "auditor", "GET", "/v1/access-log", 200),
        ("WI-DOJ", "state-auditor", "GET", "/v1/access-log", 200),
    ]
    assert [e["status"] for e in own] == [201, 200, 422, 403]
    assert all(e["source"] == "testclient" and e["key_id"] for e in own)
    assert [e["status"] for e in everyone] == [201, 200, 401, 404, 422, 403, 200]


def test_an_access_log_entry_cannot_be_changed_or_removed(service: Service) -> None:
    service.client.get("/healthz")

    with service.services.access_log.connect() as conn:
        for statement in (sa.update(access_log).values(status=200), sa.delete(access_log)):
            with pytest.raises(sa.exc.DatabaseError, match="immutable"):
                conn.execute(statement)
            conn.rollback()
    assert len(logged(service)) == 1


def test_a_write_is_logged_once_with_its_answer(service: Service) -> None:
    kpd = service.cad("KPD")
    incident = kpd.open()

    kpd.post(f"/v1/incidents/{incident}/requests/1/approve", bodies.stamped())

    assert logged(service)[-1] == (
        "KPD",
        "cad",
        "POST",
        f"/v1/incidents/{incident}/requests/1/approve",
        200,
    )


def test_on_sqlite_entries_kept_in_the_read_model_file_move_to_the_access_log_file(
    sqlite_settings: Settings,
) -> None:
    sqlite_settings.data_dir.mkdir(parents=True, exist_ok=True)
    old = read_model_engine(sqlite_settings)
    upgrade_to_head(old, sqlite_settings.migrations_dir)
    entry = {"at": datetime.now(UTC), "method": "GET", "path": "/v1/board", "status": 200}
    with old.begin() as conn:
        conn.execute(sa.insert(access_log).values(**entry))
    old.dispose()

    services = build_services(sqlite_settings)
    try:
        with services.access_log.connect() as conn:
            paths = conn.execute(sa.select(access_log.c.path)).scalars().all()
            with pytest.raises(sa.exc.DatabaseError, match="immutable"):
                conn.execute(sa.delete(access_log))
    finally:
        services.close()
    assert paths == ["/v1/board"]


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/v1/access-log", {"after": 2**70}),
        ("/v1/incidents", {"min_position": 2**70}),
        ("/v1/stream", {"after": 2**70}),
    ],
)
def test_a_position_beyond_any_64_bit_log_is_refused(
    sqlite_service: Service, path: str, params: dict[str, int]
) -> None:
    answer = sqlite_service.auditor("KPD").get(path, **params)

    assert (answer.status_code, answer.json()["type"]) == (
        422,
        "urn:mutual-aid-ledger:problem:validation-failed",
    )


def test_a_path_or_method_postgresql_text_could_not_hold_as_sent_is_logged(
    service: Service,
) -> None:
    service.client.get("/v1/%00")  # decoded, the path holds a NUL
    service.client.request("UNSUBSCRIBE", "/healthz")  # the longest method llhttp parses

    assert logged(service) == [
        (None, None, "GET", "/v1/%00", 404),
        (None, None, "UNSUBSCRIBE", "/healthz", 405),
    ]


def test_a_long_path_is_logged_up_to_a_bound_and_marked_truncated(service: Service) -> None:
    service.client.get("/v1/" + "a" * 60_000)

    [(_, _, _, path, status)] = logged(service)
    assert status == 404
    assert path == "/v1/" + "a" * (MAX_PATH - 4) + "...[truncated: 60004 characters]"


def test_an_entry_the_database_refuses_costs_no_other_entry_of_its_batch(
    service: Service,
) -> None:
    entry = {"at": datetime.now(UTC), "method": "GET", "path": "/healthz", "status": 200}
    refused = {**entry, "status": None}

    errors = commit_entries(service.services.access_log, [entry, refused, entry])

    assert [type(e) for e in errors] == [type(None), sa.exc.IntegrityError, type(None)]
    assert logged(service) == [(None, None, "GET", "/healthz", 200)] * 2
