"""The access log: every request, allowed or refused, with who, what, when, outcome and
source address. Append-only: the database refuses to change or delete an entry.

On PostgreSQL it is a table of the read-model database (alembic revisions 0006, 0008, 0011
and 0015). On SQLite it has a file of its own, made here at start with the same table and
triggers, so that its writer never waits on the projections' (SQLite admits one writer per
file). Entries that revisions before 0009 kept in the read-model file are copied over once.
app/access_writer.py writes it.
"""

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from projections.tables import UTCDateTime, metadata

access_log = sa.Table(
    "access_log",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
    sa.Column("at", UTCDateTime(), nullable=False),
    sa.Column("agency", sa.String(64)),
    sa.Column("key_id", sa.String(12)),
    sa.Column("role", sa.String(32)),
    sa.Column("method", sa.String(16), nullable=False),  # llhttp's longest: UNSUBSCRIBE
    sa.Column("path", sa.Text, nullable=False),
    sa.Column("status", sa.Integer, nullable=False),
    sa.Column("source", sa.String(64)),
    # Set on an entry that waited in the spool (app/access_spool.py) while the database was
    # unavailable: its replay skips an entry already in, so none is in twice.
    sa.Column("spool_id", sa.String(32), index=True, unique=True),
)


IMMUTABLE = "access log entries are immutable"


def prepare_sqlite_store(engine: Engine, read_models: Engine) -> None:
    with engine.begin() as conn:
        access_log.create(conn, checkfirst=True)
        for action in ("UPDATE", "DELETE"):
            conn.exec_driver_sql(
                f"CREATE TRIGGER IF NOT EXISTS access_log_no_{action.lower()} BEFORE {action}"
                f" ON access_log BEGIN SELECT RAISE(ABORT, '{IMMUTABLE}'); END"
            )
        if "spool_id" not in {c["name"] for c in sa.inspect(conn).get_columns("access_log")}:
            # A file made before the spool (revision 0015 on PostgreSQL). Plain ADD COLUMN,
            # which keeps the triggers; SQLite adds no UNIQUE column, so the index apart.
            conn.exec_driver_sql("ALTER TABLE access_log ADD COLUMN spool_id VARCHAR(32)")
            conn.exec_driver_sql(
                "CREATE UNIQUE INDEX ix_access_log_spool_id ON access_log (spool_id)"
            )
        if conn.execute(sa.select(access_log.c.id).limit(1)).first() is None:
            with read_models.connect() as old:
                earlier = [dict(r) for r in old.execute(sa.select(access_log)).mappings()]
            if earlier:
                conn.execute(sa.insert(access_log), earlier)


def commit_entries(engine: Engine, entries: list[dict[str, Any]]) -> list[Exception | None]:
    """Insert the entries in one transaction; what each one's commit raised. If the database
    refuses the batch's data, each entry is tried alone: one it refuses must not cost the
    other requests their entries."""
    error = insert_entries(engine, entries)
    if isinstance(error, REFUSED) and len(entries) > 1:
        return [insert_entries(engine, [entry]) for entry in entries]
    return [error] * len(entries)


REFUSED = (sa.exc.DataError, sa.exc.IntegrityError)
# The database cannot be reached or cannot take the write now: the entries are spooled.
UNAVAILABLE = (sa.exc.OperationalError, sa.exc.InterfaceError, sa.exc.TimeoutError)


def insert_entries(engine: Engine, entries: list[dict[str, Any]]) -> Exception | None:
    try:
        with engine.begin() as conn:
            conn.execute(sa.insert(access_log), entries)
    except Exception as failure:
        return failure
    return None


def unstored(engine: Engine, entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The spooled entries not yet in the table."""
    ids = [entry["spool_id"] for entry in entries]
    with engine.connect() as conn:
        query = sa.select(access_log.c.spool_id).where(access_log.c.spool_id.in_(ids))
        stored = set(conn.execute(query).scalars())
    return [entry for entry in entries if entry["spool_id"] not in stored]


def entries_of(
    conn: Connection, agency: str | None, after: int, limit: int
) -> list[dict[str, Any]]:
    """Oldest first after entry ``after``; ``agency``'s own requests, or all when None."""
    query = sa.select(access_log).where(access_log.c.id > after)
    if agency is not None:
        query = query.where(access_log.c.agency == agency)
    query = query.order_by(access_log.c.id).limit(limit)
    return [dict(row) for row in conn.execute(query).mappings()]
