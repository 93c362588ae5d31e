"""Alembic owns the read-model schema: upgrading an empty database yields exactly the tables
the code describes (columns, their types and nullability, indexes), on both stores, and
upgrading twice is harmless."""

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
import sqlalchemy as sa
from alembic.config import Config

from alembic import command
from app.access_log import access_log
from app.migrations import upgrade_to_head
from app.services import read_model_engine
from app.settings import Settings
from projections.tables import assistance_requests, incidents, metadata, officers, parties
from tests.integration.server import environment
from tests.postgres import create_database, drop_database

T0 = datetime(2026, 11, 1, tzinfo=UTC)


def test_upgrade_on_an_empty_database_creates_every_table_the_code_uses(
    settings: Settings,
) -> None:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = read_model_engine(settings)
    try:
        upgrade_to_head(engine, settings.migrations_dir)
        upgrade_to_head(engine, settings.migrations_dir)
        inspector = sa.inspect(engine)
        tables = set(inspector.get_table_names()) - {"alembic_version"}
        assert tables == set(metadata.tables)
        for table in metadata.sorted_tables:
            columns = {c["name"] for c in inspector.get_columns(table.name)}
            assert columns == set(table.columns.keys()), table.name
            indexes = {
                i["name"]: i["column_names"]
                for i in inspector.get_indexes(table.name)
                if "duplicates_constraint" not in i  # PostgreSQL's index of a UNIQUE
            }
            declared = {i.name: [c.name for c in i.columns] for i in table.indexes}
            assert indexes == declared, table.name
            expected = declared_columns(table, engine.dialect)
            expected |= UNENFORCED.get((engine.dialect.name, table.name), {})
            assert migrated_columns(inspector, table) == expected, table.name
    finally:
        engine.dispose()


# Revision 0011 widened access_log.method to VARCHAR(16) on PostgreSQL only. SQLite enforces no
# length (it stores any text), cannot alter a column in place (a batch copy would also drop the
# table's append-only triggers), and keeps its access log in a file of its own, made from the
# code's table: the read-model file's copy is only read once, to move older entries there.
UNENFORCED = {("sqlite", "access_log"): {"method": ("VARCHAR(8)", False)}}


def migrated_columns(inspector: sa.Inspector, table: sa.Table) -> dict[str, tuple[str, bool]]:
    """Each column's type, as the database's dialect names it (UUID or CHAR(32), TIMESTAMP
    WITH TIME ZONE or DATETIME, ...), and whether it may be NULL."""
    dialect = inspector.dialect
    return {
        c["name"]: (c["type"].compile(dialect=dialect), c["nullable"])
        for c in inspector.get_columns(table.name)
    }


def declared_columns(table: sa.Table, dialect: sa.Dialect) -> dict[str, tuple[str, bool]]:
    """The same for the table as the code describes it, on the database at hand."""
    return {c.name: (c.type.compile(dialect=dialect), bool(c.nullable)) for c in table.columns}


def test_the_access_log_stays_append_only_after_every_revision(settings: Settings) -> None:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = read_model_engine(settings)
    try:
        upgrade_to_head(engine, settings.migrations_dir)
        with engine.begin() as conn:
            conn.execute(sa.insert(access_log).values(at=T0, method="GET", path="/", status=200))
        with engine.connect() as conn, pytest.raises(sa.exc.DatabaseError, match="immutable"):
            conn.execute(sa.update(access_log).values(status=500))
    finally:
        engine.dispose()


def test_revision_0009_lists_the_parties_of_incidents_already_projected(
    settings: Settings,
) -> None:
    found = after_upgrade_from(settings, "0008", sa.select(parties.c.agency, parties.c.role))

    assert sorted(found) == [("KCSD", "responder"), ("KPD", "requester")]


def test_revision_0012_names_the_requester_on_the_requests_already_projected(
    settings: Settings,
) -> None:
    found = after_upgrade_from(settings, "0011", sa.select(assistance_requests.c.requesting_agency))

    assert found == [("KPD",), ("KPD",)]


def after_upgrade_from(settings: Settings, revision: str, query: sa.Select[Any]) -> list[Any]:
    """What ``query`` finds after an upgrade to head from ``revision``, with an incident and
    two requests already projected there."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = read_model_engine(settings)
    config = Config(str(settings.migrations_dir / "alembic.ini"))
    try:
        with engine.begin() as conn:
            config.attributes["connection"] = conn
            command.upgrade(config, revision)
            conn.execute(sa.insert(incidents), [incident_row(INCIDENT)])
            conn.execute(sa.insert(assistance_requests), [request_row(1), request_row(2)])
            command.upgrade(config, "head")
            return list(conn.execute(query).all())
    finally:
        engine.dispose()


def test_revision_0013_lists_the_officers_in_charge_of_responses_already_projected(
    settings: Settings,
) -> None:
    """Request 1's officer in charge was not sent; request 2's was, and is listed once."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = read_model_engine(settings)
    config = Config(str(settings.migrations_dir / "alembic.ini"))
    ortiz = {"name": "Lt. Ortiz", "badge": "77", "agency": "KCSD", "rank": "lieutenant"}
    lee = {"name": "Deputy Lee", "badge": "D-1", "agency": "KCSD", "rank": None}
    in_charge = ((1, ortiz), (2, lee), (3, None))
    answered = [{**request_row(n), "officer_in_charge": o} for n, o in in_charge]
    try:
        with engine.begin() as conn:
            config.attributes["connection"] = conn
            command.upgrade(config, "0011")
            conn.execute(sa.insert(incidents), [incident_row(INCIDENT)])
            conn.execute(sa.insert(assistance_requests), answered)
            sent = {"incident_id": INCIDENT, "number": 2, "status": "deployed", **lee}
            conn.execute(sa.insert(officers), [{**sent, "involvement": []}])
            command.upgrade(config, "head")
            found = conn.execute(sa.select(officers.c.number, officers.c.name, officers.c.status))
            rows = sorted(map(tuple, found))
    finally:
        engine.dispose()
    assert rows == [(1, "Lt. Ortiz", "in_charge"), (2, "Deputy Lee", "deployed")]


INCIDENT = uuid4()


def incident_row(incident_id: UUID) -> dict[str, object]:
    return {
        "incident_id": incident_id,
        "case_number": "K-1",
        "requesting_agency": "KPD",
        "nature": "n",
        "kind": "emergency",
        "location": "l",
        "status": "open",
        "opened_by": {},
        "opened_at": T0,
        "recorded_at": T0,
        "version": 2,
        "position": 2,
    }


def request_row(number: int) -> dict[str, object]:
    """KCSD asked twice (after declining): one party row all the same."""
    return {
        "incident_id": INCIDENT,
        "number": number,
        "agency": "KCSD",
        "status": "requested",
        "resources": [],
        "needed_at": T0,
        "location": "l",
        "report_to": "r",
        "facts": "f",
        "requested_by": {},
        "requested_at": T0,
        "deployed": {},
    }


def test_processes_starting_together_on_an_empty_store_all_start(
    store: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """Before they took turns, one of two processes failed a third of the time ('table
    api_keys already exists'), and a projection worker could be the one; on PostgreSQL the
    event store's own tables raced the same way."""
    start = "from app.services import build_services as b; from app.settings import Settings as S"
    for trial in range(4):
        with empty_store(store, tmp_path / str(trial), request) as settings:
            env = environment(settings)
            starting = [
                subprocess.Popen([sys.executable, "-c", f"{start}; b(S()).close()"], env=env)
                for _ in range(3)
            ]
            assert [p.wait(timeout=120) for p in starting] == [0, 0, 0]


@contextmanager
def empty_store(store: str, folder: Path, request: pytest.FixtureRequest) -> Iterator[Settings]:
    if store == "sqlite":
        yield Settings(data_dir=folder)
        return
    server = request.getfixturevalue("postgres_server")
    url = create_database(server)
    try:
        yield Settings(database_url=url, data_dir=folder)
    finally:
        drop_database(server, url)
