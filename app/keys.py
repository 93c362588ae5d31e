"""API keys: each bound to one agency, stored only as a SHA-256 hash.

Keys are 256-bit random tokens, so a plain hash (no salt, no slow KDF) is enough: there is
nothing to guess, and a lookup by hash needs no comparison of secrets.
"""

import hashlib
import secrets
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from projections.tables import UTCDateTime, metadata

KEY_PREFIX = "mal_"

api_keys = sa.Table(
    "api_keys",
    metadata,
    sa.Column("key_hash", sa.String(64), primary_key=True),
    sa.Column("agency", sa.String(64), nullable=False),
    sa.Column("label", sa.Text, nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("revoked_at", UTCDateTime()),
)


def create_key(engine: Engine, agency: str, label: str) -> str:
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    with engine.begin() as conn:
        conn.execute(
            sa.insert(api_keys).values(
                key_hash=hash_key(key), agency=agency, label=label, created_at=datetime.now(UTC)
            )
        )
    return key


def agency_of(engine: Engine, key: str) -> str | None:
    query = sa.select(api_keys.c.agency).where(
        api_keys.c.key_hash == hash_key(key), api_keys.c.revoked_at.is_(None)
    )
    with engine.connect() as conn:
        return conn.execute(query).scalar_one_or_none()


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()
