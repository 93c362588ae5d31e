"""The access log: every request, allowed or refused, with who, what, when, outcome and
source address. Append-only: the database refuses to change or delete an entry."""

from datetime import UTC, datetime
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
    sa.Column("method", sa.String(8), nullable=False),
    sa.Column("path", sa.Text, nullable=False),
    sa.Column("status", sa.Integer, nullable=False),
    sa.Column("source", sa.String(64)),
)


def record(engine: Engine, entry: dict[str, Any]) -> None:
    with engine.begin() as conn:
        conn.execute(sa.insert(access_log).values(at=datetime.now(UTC), **entry))


def entries_of(
    conn: Connection, agency: str | None, after: int, limit: int
) -> list[dict[str, Any]]:
    """Oldest first after entry ``after``; ``agency``'s own requests, or all when None."""
    query = sa.select(access_log).where(access_log.c.id > after)
    if agency is not None:
        query = query.where(access_log.c.agency == agency)
    query = query.order_by(access_log.c.id).limit(limit)
    return [dict(row) for row in conn.execute(query).mappings()]
