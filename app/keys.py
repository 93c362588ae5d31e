"""API keys: each bound to one agency and one role, stored only as a SHA-256 hash.

Keys are 256-bit random tokens, so a plain hash (no salt, no slow KDF) is enough: there is
nothing to guess, and a lookup by hash needs no comparison of secrets.
"""

import hashlib
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine, RowMapping
from sqlalchemy.sql import Select
from sqlalchemy.sql.elements import ColumnElement

from app.principals import AGENCY_ROLES, Principal, Role
from projections.tables import UTCDateTime, metadata

KEY_PREFIX = "mal_"

api_keys = sa.Table(
    "api_keys",
    metadata,
    sa.Column("key_hash", sa.String(64), primary_key=True),
    sa.Column("agency", sa.String(64), nullable=False),
    sa.Column("label", sa.Text, nullable=False),
    sa.Column("role", sa.String(32), nullable=False, server_default=Role.CAD.value),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    # The key works until this moment: set now to revoke, later to expire or rotate. It
    # only ever moves earlier (revision 0014's trigger refuses anything else).
    sa.Column("valid_until", UTCDateTime()),
    # When a new key replaced it: a key is rotated once (its grace is no second key's start).
    sa.Column("rotated_at", UTCDateTime()),
)
ID_LENGTH = 12  # a key is named by the start of its hash: enough to tell keys apart


def create_key(
    engine: Engine,
    agency: str,
    label: str,
    valid_for: timedelta | None = None,
    role: Role = Role.CAD,
) -> str:
    valid_until = datetime.now(UTC) + valid_for if valid_for else None
    with engine.begin() as conn:
        return add_key(conn, agency, label, role, valid_until)


def add_key(
    conn: Connection, agency: str, label: str, role: Role, valid_until: datetime | None
) -> str:
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    conn.execute(
        sa.insert(api_keys).values(
            key_hash=hash_key(key),
            agency=agency,
            label=label,
            role=role.value,
            created_at=datetime.now(UTC),
            valid_until=valid_until,
        )
    )
    return key


def works_at(at: datetime) -> ColumnElement[bool]:
    """The key has not ended by ``at``."""
    until = api_keys.c.valid_until
    return sa.or_(until.is_(None), until > sa.literal(at, UTCDateTime()))


@dataclass(frozen=True)
class IssuedKey:
    """A key made here: whom it acts for, None once it has ended. An ended key is no guess
    (nobody guesses a 256-bit key): only its holder can send it."""

    principal: Principal | None


def issued_key(engine: Engine, key: str) -> IssuedKey | None:
    """The key if it was made here, working or ended: one lookup."""
    c = api_keys.c
    works = works_at(datetime.now(UTC)).label("works")
    query = sa.select(c.key_hash, c.agency, c.role, works).where(c.key_hash == hash_key(key))
    with engine.connect() as conn:
        row = conn.execute(query).one_or_none()
    if row is None:
        return None
    principal = Principal(row.key_hash[:ID_LENGTH], row.agency, Role(row.role))
    return IssuedKey(principal if row.works else None)


def principal_of(engine: Engine, key: str) -> Principal | None:
    found = issued_key(engine, key)
    return found.principal if found else None


class RecentKeys:
    """Keys seen in the last few seconds, working or ended, so a request costs no key lookup,
    not even one sent again and again with a revoked key. A key revoked or expired in another
    process stops working within ``ttl`` seconds; revoking it here (the admin API) stops it
    at once. A key never made here is not kept (guesses would fill the memory; the lockout
    bounds them), and at most ``limit`` keys are, the one looked up longest ago going first."""

    def __init__(
        self,
        engine: Engine,
        ttl: float = 5.0,
        limit: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._engine = engine
        self._ttl = ttl
        self._limit = limit
        self._clock = clock
        self._seen: dict[str, tuple[IssuedKey, float]] = {}  # oldest first
        self._lock = threading.Lock()

    def recent(self, key: str) -> IssuedKey | None:
        """The key as seen in the last ``ttl`` seconds; no database."""
        found, until = self._seen.get(hash_key(key), (None, 0.0))
        return found if until > self._clock() else None

    def issued(self, key: str) -> IssuedKey | None:
        """The key as seen moments ago, or as the database has it now."""
        if found := self.recent(key):
            return found
        found = issued_key(self._engine, key)
        if found:
            self._remember(hash_key(key), found)
        return found

    def _remember(self, hashed: str, found: IssuedKey) -> None:
        with self._lock:
            self._seen.pop(hashed, None)  # back in last, as the newest
            if len(self._seen) >= self._limit:
                del self._seen[next(iter(self._seen))]
            self._seen[hashed] = (found, self._clock() + self._ttl)

    def forget(self) -> None:
        with self._lock:
            self._seen.clear()


def list_keys(engine: Engine, agency: str | None = None) -> list[dict[str, Any]]:
    """Every key by id (never the key itself), with its agency, role, label and validity;
    only ``agency``'s keys when it is given."""
    query = of_agency(sa.select(api_keys).order_by(api_keys.c.created_at), agency)
    with engine.connect() as conn:
        rows = conn.execute(query).mappings()
        return [{**row, "key_hash": row["key_hash"][:ID_LENGTH]} for row in rows]


def end_key(engine: Engine, key_id: str, at: datetime, agency: str | None = None) -> None:
    """The key stops working at ``at``: now to revoke it. A key that ends sooner keeps its end.
    With ``agency``, only a key of that agency can be ended."""
    old = the_key(engine, key_id, agency)
    with engine.begin() as conn:
        conn.execute(ended_by(at).where(api_keys.c.key_hash == old["key_hash"]))


def rotate_key(engine: Engine, key_id: str, grace: timedelta, agency: str | None = None) -> str:
    """A new key for the same agency, role and holder that ends when the old one would have
    (a rotation changes the secret, never how long the holder may act); the old one works
    ``grace`` more, or until its own end if sooner. A key that has ended is not rotated:
    that would bring it back; nor is one rotated before, still in its grace: each rotation
    would make one more working key."""
    old = the_key(engine, key_id, agency)
    now = datetime.now(UTC)
    with engine.begin() as conn:
        # One statement checks and ends it, so a revocation or rotation meanwhile stands.
        c = api_keys.c
        replaceable = sa.and_(c.key_hash == old["key_hash"], works_at(now), c.rotated_at.is_(None))
        rotated = ended_by(now + grace).values(rotated_at=now).where(replaceable)
        if conn.execute(rotated).rowcount == 0:
            raise KeyEnded(f"{key_id} has ended or was rotated; create a new key instead")
        return add_key(conn, old["agency"], old["label"], Role(old["role"]), old["valid_until"])


def ended_by(at: datetime) -> sa.Update:
    """Set the key's end to ``at`` unless it ends sooner: no change moves an end later."""
    until = api_keys.c.valid_until
    return sa.update(api_keys).values(
        valid_until=sa.case((works_at(at), sa.literal(at, UTCDateTime())), else_=until)
    )


def the_key(engine: Engine, key_id: str, agency: str | None) -> RowMapping:
    """The one key whose id is ``key_id`` (and of ``agency``, when given)."""
    query = sa.select(api_keys).where(api_keys.c.key_hash.startswith(key_id, autoescape=True))
    with engine.connect() as conn:
        found = conn.execute(of_agency(query, agency).limit(2)).mappings().all()
    if len(found) != 1 or len(key_id) < ID_LENGTH:
        raise KeyNotFound(f"{key_id} does not name exactly one key")
    return found[0]


def of_agency(query: Select[Any], agency: str | None) -> Select[Any]:
    """Only ``agency``'s own keys, of the roles its admin manages, when it is given."""
    if agency is None:
        return query
    roles = [role.value for role in AGENCY_ROLES]
    return query.where(api_keys.c.agency == agency, api_keys.c.role.in_(roles))


class KeyNotFound(ValueError):
    pass


class KeyEnded(ValueError):
    """Revoked, expired or rotated out."""


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()
