"""The event store: the library's own recorders, hardened for this service.

- An idempotency key is written in the same transaction as the events it produced, so a retried
  command is either answered from that record or runs once: never twice, never half.
- Stored events cannot be updated, deleted or truncated: triggers refuse it, whoever asks.
- SQLite commits with synchronous=FULL, so an acknowledged write survives a power cut.
"""

import json
import logging
from dataclasses import dataclass
from typing import Any, Protocol
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import (
    PostgresAggregateRecorder,
    PostgresApplicationRecorder,
    PostgresFactory,
)
from eventsourcing.sqlite import (
    SQLiteApplicationRecorder,
    SQLiteConnection,
    SQLiteConnectionPool,
    SQLiteCursor,
    SQLiteFactory,
)
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Identifier

from app.wal import leave_checkpoints_to_the_thread

log = logging.getLogger(__name__)
IMMUTABLE = "stored events are immutable"


@dataclass(frozen=True)
class IdempotencyRecord:
    """The first successful answer to a key: enough to give the same answer again."""

    agency: str
    key: str
    request_hash: str
    incident_id: UUID
    version: int


class IdempotentRecorder(Protocol):
    """What the ledger needs of its recorder beyond the library's interface."""

    def find_idempotencies(self, keys: list[tuple[str, str]]) -> list[IdempotencyRecord]:
        """The records of those of the (agency, key) pairs that were used before."""
        ...

    def position_of(self, incident_id: UUID, version: int) -> int: ...

    def positioned_events(self, incident_id: UUID) -> list[tuple[int, int, str, bytes]]: ...

    def events_after(self, held: dict[UUID, int]) -> list[StoredEvent]:
        """The events of each incident past the version held, by incident and version."""
        ...


# -- SQLite ---------------------------------------------------------------------------------

SQLITE_DDL = [
    "CREATE TABLE IF NOT EXISTS idempotency_keys ("
    " agency TEXT NOT NULL, key TEXT NOT NULL, request_hash TEXT NOT NULL,"
    " incident_id TEXT NOT NULL, version INTEGER NOT NULL,"
    " created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),"
    " PRIMARY KEY (agency, key))",
    *(
        f"CREATE TRIGGER IF NOT EXISTS stored_events_no_{op.lower()} BEFORE {op} "
        f"ON stored_events BEGIN SELECT RAISE(ABORT, '{IMMUTABLE}'); END"
        for op in ("UPDATE", "DELETE")
    ),
]


class LedgerSQLiteRecorder(SQLiteApplicationRecorder):
    def construct_create_table_statements(self) -> list[str]:
        return [*super().construct_create_table_statements(), *SQLITE_DDL]

    def _insert_events(self, c: SQLiteCursor, stored_events: Any, **kwargs: Any) -> Any:
        if records := kwargs.get("idempotency"):
            c.executemany(
                "INSERT INTO idempotency_keys (agency, key, request_hash, incident_id, version)"
                " VALUES (?, ?, ?, ?, ?)",
                [(*key_of(r), r.incident_id.hex, r.version) for r in records],
            )
        return super()._insert_events(c, stored_events, **kwargs)

    def find_idempotencies(self, keys: list[tuple[str, str]]) -> list[IdempotencyRecord]:
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                "SELECT i.agency, i.key, request_hash, incident_id, version"
                " FROM json_each(?) AS wanted JOIN idempotency_keys AS i"
                " ON i.agency = json_extract(wanted.value, '$[0]')"
                " AND i.key = json_extract(wanted.value, '$[1]')",
                (json.dumps(keys),),
            )
            return [record_of(tuple(row)) for row in c.fetchall()]

    def position_of(self, incident_id: UUID, version: int) -> int:
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                "SELECT rowid FROM stored_events"
                " WHERE originator_id = ? AND originator_version = ?",
                (incident_id.hex, version),
            )
            position: int = c.fetchone()[0]
        return position

    def positioned_events(self, incident_id: UUID) -> list[tuple[int, int, str, bytes]]:
        """(position, version, topic, state) of one incident's events, as stored."""
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                "SELECT rowid, originator_version, topic, state FROM stored_events"
                " WHERE originator_id = ? ORDER BY originator_version",
                (incident_id.hex,),
            )
            return [(*row[:3], state_bytes(row[3])) for row in c.fetchall()]

    def events_after(self, held: dict[UUID, int]) -> list[StoredEvent]:
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                "SELECT originator_id, originator_version, topic, state"
                " FROM json_each(?) AS held JOIN stored_events"
                " ON originator_id = held.key AND originator_version > held.value"
                " ORDER BY originator_id, originator_version",
                (json.dumps({i.hex: version for i, version in held.items()}),),
            )
            return [StoredEvent(UUID(row[0]), *row[1:]) for row in c.fetchall()]


class DurableSQLitePool(SQLiteConnectionPool):
    def _create_connection(self) -> SQLiteConnection:
        connection = super()._create_connection()
        connection._sqlite_conn.execute("PRAGMA synchronous=FULL")
        leave_checkpoints_to_the_thread(connection._sqlite_conn)
        return connection


class LedgerSQLiteFactory(SQLiteFactory):
    application_recorder_class = LedgerSQLiteRecorder

    def __init__(self, env: Any) -> None:
        super().__init__(env)
        pool = self.datastore.pool
        self.datastore.pool = DurableSQLitePool(
            db_name=pool.db_name, lock_timeout=pool.lock_timeout
        )


def state_bytes(state: bytes | str) -> bytes:
    """A stored event's state as bytes. A BLOB edited in place with SQLite's replace() is
    read back as TEXT; its UTF-8 bytes are what the edit left, so audit reads take it like
    any edited event (verification reports it) instead of failing on its type."""
    return state.encode() if isinstance(state, str) else state


def key_of(r: IdempotencyRecord) -> tuple[str, str, str]:
    return (r.agency, r.key, r.request_hash)


def record_of(row: tuple[Any, ...]) -> IdempotencyRecord:
    agency, key, request_hash, incident_id, version = row
    incident = incident_id if isinstance(incident_id, UUID) else UUID(incident_id)
    return IdempotencyRecord(agency, key, request_hash, incident, version)


# -- PostgreSQL -----------------------------------------------------------------------------

PG_DDL = [
    "CREATE TABLE IF NOT EXISTS {schema}.idempotency_keys ("
    " agency text NOT NULL, key text NOT NULL, request_hash text NOT NULL,"
    " incident_id uuid NOT NULL, version integer NOT NULL,"
    " created_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (agency, key))",
    "CREATE OR REPLACE FUNCTION {schema}.events_are_immutable() RETURNS trigger"
    " LANGUAGE plpgsql AS $$ BEGIN"
    f" RAISE EXCEPTION '{IMMUTABLE}: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';"
    " END $$",
    "CREATE OR REPLACE TRIGGER events_no_update_or_delete BEFORE UPDATE OR DELETE"
    " ON {schema}.{table} FOR EACH ROW EXECUTE FUNCTION {schema}.events_are_immutable()",
    "CREATE OR REPLACE TRIGGER events_no_truncate BEFORE TRUNCATE"
    " ON {schema}.{table} FOR EACH STATEMENT EXECUTE FUNCTION {schema}.events_are_immutable()",
]


class LedgerPostgresRecorder(PostgresApplicationRecorder):
    def __init__(self, datastore: Any, **kwargs: Any) -> None:
        super().__init__(datastore, **kwargs)
        names = {
            "schema": Identifier(datastore.schema),
            "table": Identifier(self.events_table_name),
        }
        self.sql_create_statements += [SQL(ddl).format(**names) for ddl in PG_DDL]

    def _insert_stored_events(
        self, curs: Cursor[DictRow], stored_events: Any, **kwargs: Any
    ) -> None:
        """After the events, on a cursor of its own: the library reads the events' ids from
        ``curs``, and in pipeline mode a failure here must surface as the IntegrityError of a
        unique key, not abort the statements queued after it."""
        super()._insert_stored_events(curs, stored_events, **kwargs)
        if records := kwargs.get("idempotency"):
            with curs.connection.cursor() as own:
                own.executemany(
                    SQL(
                        "INSERT INTO {0}.idempotency_keys (agency, key, request_hash,"
                        " incident_id, version) VALUES (%s, %s, %s, %s, %s)"
                    ).format(Identifier(self.datastore.schema)),
                    [(*key_of(r), r.incident_id, r.version) for r in records],
                )

    def find_idempotencies(self, keys: list[tuple[str, str]]) -> list[IdempotencyRecord]:
        query = SQL(
            "SELECT i.agency, i.key, request_hash, incident_id, version"
            " FROM unnest(%s::text[], %s::text[]) AS wanted (agency, key)"
            " JOIN {0}.idempotency_keys AS i"
            " ON i.agency = wanted.agency AND i.key = wanted.key"
        ).format(Identifier(self.datastore.schema))
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(query, ([agency for agency, _ in keys], [key for _, key in keys]))
            return [record_of(tuple(row.values())) for row in curs.fetchall()]

    def position_of(self, incident_id: UUID, version: int) -> int:
        query = SQL(
            "SELECT notification_id FROM {0}.{1}"
            " WHERE originator_id = %s AND originator_version = %s"
        ).format(Identifier(self.datastore.schema), Identifier(self.events_table_name))
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(query, (incident_id, version))
            row = curs.fetchone()
        assert row is not None
        position: int = row["notification_id"]
        return position

    def positioned_events(self, incident_id: UUID) -> list[tuple[int, int, str, bytes]]:
        query = SQL(
            "SELECT notification_id, originator_version, topic, state FROM {0}.{1}"
            " WHERE originator_id = %s ORDER BY originator_version"
        ).format(Identifier(self.datastore.schema), Identifier(self.events_table_name))
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(query, (incident_id,))
            return [tuple(row.values()) for row in curs.fetchall()]

    def events_after(self, held: dict[UUID, int]) -> list[StoredEvent]:
        query = SQL(
            "SELECT originator_id, originator_version, topic, state"
            " FROM unnest(%s::uuid[], %s::bigint[]) AS held (id, version) JOIN {0}.{1}"
            " ON originator_id = held.id AND originator_version > held.version"
            " ORDER BY originator_id, originator_version"
        ).format(Identifier(self.datastore.schema), Identifier(self.events_table_name))
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(query, (list(held), list(held.values())))
            return [
                StoredEvent(
                    row["originator_id"],
                    row["originator_version"],
                    row["topic"],
                    bytes(row["state"]),
                )
                for row in curs.fetchall()
            ]


class LedgerPostgresFactory(PostgresFactory):
    application_recorder_class = LedgerPostgresRecorder


# -- durability -----------------------------------------------------------------------------


def durability_warnings(recorder: object) -> list[str]:
    """What in the store's settings could lose an acknowledged write; checked at start."""
    if isinstance(recorder, LedgerSQLiteRecorder):
        with recorder.datastore.transaction(commit=False) as c:
            c.execute("PRAGMA synchronous")
            synchronous = c.fetchone()[0]
            c.execute("PRAGMA journal_mode")
            journal = c.fetchone()[0]
        found = {"synchronous": synchronous, "journal_mode": journal.lower()}
        wanted = {"synchronous": 2, "journal_mode": "wal"}  # 2 is FULL
    else:
        assert isinstance(recorder, LedgerPostgresRecorder)
        with recorder.datastore.transaction(commit=False) as curs:
            found = {}
            for name in ("synchronous_commit", "fsync"):
                curs.execute(SQL("SHOW {0}").format(Identifier(name)))
                row = curs.fetchone()
                assert row is not None
                found[name] = row[name]
        wanted = {"synchronous_commit": "on", "fsync": "on"}
    return [
        f"{name} is {found[name]}, not {value}: an acknowledged write may be lost in a crash"
        for name, value in wanted.items()
        if found[name] != value
    ]


def snapshotted_incidents(recorder: Any) -> list[UUID]:
    """Every incident with a snapshot, from the snapshot table itself (the library's
    recorders have no query for it)."""
    table = recorder.events_table_name
    query: Any = f"SELECT DISTINCT originator_id FROM {table}"  # noqa: S608 (the library names it)
    if isinstance(recorder, PostgresAggregateRecorder):
        schema = Identifier(recorder.datastore.schema)
        query = SQL("SELECT DISTINCT originator_id FROM {0}.{1}").format(schema, Identifier(table))
    with recorder.datastore.transaction(commit=False) as cursor:
        cursor.execute(query)
        return [UUID(str(row["originator_id"])) for row in cursor.fetchall()]


# -- the service's own role -----------------------------------------------------------------

SERVICE_ROLE_GRANTS = [
    # UPDATE only because LOCK TABLE ... IN EXCLUSIVE MODE requires it; the triggers still
    # refuse every UPDATE, and a role that does not own the table cannot disable them.
    "GRANT SELECT, INSERT, UPDATE ON {schema}.{table} TO {role}",
    "GRANT SELECT, INSERT ON {schema}.idempotency_keys, {schema}.{snapshots} TO {role}",
    "GRANT USAGE ON ALL SEQUENCES IN SCHEMA {schema} TO {role}",
    "GRANT SELECT, INSERT, UPDATE, DELETE ON {schema}.incidents, {schema}.assistance_requests,"
    " {schema}.officers, {schema}.withdrawals, {schema}.obligations, {schema}.parties,"
    " {schema}.projection_tracking TO {role}",
    # Append-only records: the triggers refuse changes, and the role gets no right to try.
    "GRANT SELECT, INSERT ON {schema}.access_log, {schema}.event_seals, {schema}.checkpoints"
    " TO {role}",
    # The admin API creates, rotates and revokes keys: it sets an end and a rotation, never
    # the key, its agency or its role (no DELETE either). Revoked first: a table-wide UPDATE
    # granted before would outweigh the column grant. Revision 0014's trigger also refuses
    # an end moved later or removed.
    "REVOKE UPDATE ON {schema}.api_keys FROM {role}",
    "GRANT SELECT, INSERT, UPDATE (valid_until, rotated_at) ON {schema}.api_keys TO {role}",
    "GRANT SELECT ON {schema}.alembic_version TO {role}",
]


def grant_service_role(recorder: object, role: str) -> None:
    """Run by the tables' owner: let ``role`` append and read events, never change them."""
    assert isinstance(recorder, LedgerPostgresRecorder), "roles exist on PostgreSQL only"
    names = {
        "schema": Identifier(recorder.datastore.schema),
        "table": Identifier(recorder.events_table_name),
        "snapshots": Identifier(recorder.events_table_name.replace("_events", "_snapshots")),
        "role": Identifier(role),
    }
    with recorder.datastore.transaction(commit=True) as curs:
        for grant in SERVICE_ROLE_GRANTS:
            curs.execute(SQL(grant).format(**names))
