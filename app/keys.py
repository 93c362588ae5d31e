"""API keys: each bound to one agency, stored only as a SHA-256 hash.

Keys are 256-bit random tokens, so a plain hash (no salt, no slow KDF) is enough: there is
nothing to guess, and a lookup by hash needs no comparison of secrets.
"""

import hashlib
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

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
    # The key works until this moment: set now to revoke, later to expire or rotate.
    sa.Column("valid_until", UTCDateTime()),
)
ID_LENGTH = 12  # a key is named by the start of its hash: enough to tell keys apart


def create_key(engine: Engine, agency: str, label: str, valid_for: timedelta | None = None) -> str:
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    now = datetime.now(UTC)
    with engine.begin() as conn:
        conn.execute(
            sa.insert(api_keys).values(
                key_hash=hash_key(key),
                agency=agency,
                label=label,
                created_at=now,
                valid_until=now + valid_for if valid_for else None,
            )
        )
    return key


def agency_of(engine: Engine, key: str) -> str | None:
    c = api_keys.c
    valid = sa.or_(
        c.valid_until.is_(None), c.valid_until > sa.literal(datetime.now(UTC), UTCDateTime())
    )
    query = sa.select(c.agency).where(c.key_hash == hash_key(key), valid)
    with engine.connect() as conn:
        return conn.execute(query).scalar_one_or_none()


def list_keys(engine: Engine) -> list[dict[str, Any]]:
    """Every key by id (never the key itself), with its agency, label and validity."""
    with engine.connect() as conn:
        rows = conn.execute(sa.select(api_keys).order_by(api_keys.c.created_at)).mappings()
        return [{**row, "key_hash": row["key_hash"][:ID_LENGTH]} for row in rows]


def end_key(engine: Engine, key_id: str, at: datetime) -> None:
    """The key stops working at ``at``: now to revoke it, later to let clients move over."""
    with engine.begin() as conn:
        ended = conn.execute(
            sa.update(api_keys).where(api_keys.c.key_hash.startswith(key_id)).values(valid_until=at)
        )
        if ended.rowcount != 1 or len(key_id) < ID_LENGTH:
            raise ValueError(f"{key_id} does not name exactly one key")


def rotate_key(engine: Engine, key_id: str, grace: timedelta) -> str:
    """A new key for the same agency and holder; the old one works for ``grace`` more."""
    with engine.connect() as conn:
        old = (
            conn.execute(sa.select(api_keys).where(api_keys.c.key_hash.startswith(key_id)))
            .mappings()
            .all()
        )
    if len(old) != 1:
        raise ValueError(f"{key_id} does not name exactly one key")
    end_key(engine, key_id, datetime.now(UTC) + grace)
    return create_key(engine, old[0]["agency"], old[0]["label"])


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()
