"""Issue 5, must show 1: tampering with the stored log through raw SQL, on both stores, is
detected and the position named: any changed byte (200 random trials), a deleted event, two
swapped events, a forged event (its state even as TEXT), an edit after the last checkpoint
with its seal removed, and the newest events deleted with every later hash recomputed (caught
by the signed checkpoint) or with their seals (caught by the checkpoint the service signs by
itself). The attacker drops the append-only triggers first, as the tables' owner could."""

import random
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pydantic import SecretStr

from app.audit import Break, Checkpoint, Verdict, public_key_of
from app.audit_store import load_checkpoints, make_checkpoint, stored_events, verify_store
from app.services import Services, build_services
from app.settings import Settings
from projections.seals import chain, checkpoints, event_seals
from tests.scenarios import full_incident

KEY = Ed25519PrivateKey.generate()
TRUSTED = {public_key_of(KEY)}


@dataclass
class Store:
    """Raw SQL on the event table, as an attacker with the owner's access would use it."""

    services: Services
    connect: Callable[[], AbstractContextManager[Any]]
    table: str
    position: str
    mark: str

    def sql(self, statement: str, *params: Any) -> list[Any]:
        statement = statement.format(table=self.table, position=self.position).replace(
            "?", self.mark
        )
        with self.connect() as conn:
            rows = conn.execute(statement, params)
            found = rows.fetchall() if rows.description else []
            conn.commit()
            return list(found)

    def verify(self, kept: Iterable[Checkpoint] = ()) -> Break | None:
        return self.verdict(kept).first_break

    def verdict(self, kept: Iterable[Checkpoint] = ()) -> Verdict:
        """As the API and the command line do: seal up to the head (whatever the log holds
        then), then verify the sealed log."""
        self.services.catch_up_seals()
        return verify_store(self.services.ledger.recorder, self.services.read_models, TRUSTED, kept)

    def positions(self) -> list[int]:
        return [row[0] for row in self.sql("SELECT {position} FROM {table} ORDER BY {position}")]


@pytest.fixture
def tampered(settings: Settings) -> Iterator[Store]:
    services = build_services(
        settings.model_copy(update={"signing_key": SecretStr(KEY.private_bytes_raw().hex())})
    )
    for n in range(5):
        full_incident(services.ledger, f"K-{n}")
    services.sealer.run_until_caught_up()
    make_checkpoint(services.read_models, KEY)
    if settings.database_url:
        url = settings.database_url
        attacker = Store(
            services,
            lambda: psycopg.connect(url),
            "mutualaidledger_events",
            "notification_id",
            "%s",
        )
        attacker.sql("ALTER TABLE {table} DISABLE TRIGGER ALL")
    else:
        path = Path(settings.data_dir) / "events.sqlite"
        attacker = Store(
            services, lambda: closing(sqlite3.connect(path)), "stored_events", "rowid", "?"
        )
        attacker.sql("DROP TRIGGER stored_events_no_update")
        attacker.sql("DROP TRIGGER stored_events_no_delete")
    try:
        yield attacker
    finally:
        services.close()


def test_an_untouched_log_verifies(tampered: Store) -> None:
    assert tampered.verify() is None


def test_every_single_changed_byte_is_detected_at_its_position(tampered: Store) -> None:
    rng = random.Random(20261122)
    positions = tampered.positions()
    for _ in range(200):
        position = rng.choice(positions)
        [(original,)] = tampered.sql("SELECT state FROM {table} WHERE {position} = ?", position)
        state = bytearray(original)
        state[rng.randrange(len(state))] ^= 1 << rng.randrange(8)
        tampered.sql("UPDATE {table} SET state = ? WHERE {position} = ?", bytes(state), position)

        assert tampered.verify() == Break(position, "the event's content differs from its seal")

        tampered.sql("UPDATE {table} SET state = ? WHERE {position} = ?", bytes(original), position)
    assert tampered.verify() is None


def test_a_deleted_event_is_detected_at_its_position(tampered: Store) -> None:
    position = tampered.positions()[17]

    tampered.sql("DELETE FROM {table} WHERE {position} = ?", position)

    assert tampered.verify() == Break(position, "a sealed event was removed")


def test_deleting_the_newest_event_is_detected_at_its_position(tampered: Store) -> None:
    newest = tampered.positions()[-1]

    tampered.sql("DELETE FROM {table} WHERE {position} = ?", newest)

    assert tampered.verify() == Break(newest, "a sealed event was removed")


def test_two_swapped_events_are_detected_at_the_first(tampered: Store) -> None:
    first, second = tampered.positions()[3], tampered.positions()[30]
    [(a,)] = tampered.sql("SELECT state FROM {table} WHERE {position} = ?", first)
    [(b,)] = tampered.sql("SELECT state FROM {table} WHERE {position} = ?", second)

    tampered.sql("UPDATE {table} SET state = ? WHERE {position} = ?", b, first)
    tampered.sql("UPDATE {table} SET state = ? WHERE {position} = ?", a, second)

    assert tampered.verify() == Break(first, "the event's content differs from its seal")


@pytest.mark.parametrize("stored_as", ["?", "CAST(? AS TEXT)"], ids=["blob", "text"])
def test_a_forged_event_is_detected_at_its_position(tampered: Store, stored_as: str) -> None:
    if stored_as != "?" and tampered.services.settings.uses_postgres:
        pytest.skip("PostgreSQL's bytea cannot hold text")
    [(originator, topic, state)] = tampered.sql(
        "SELECT originator_id, topic, state FROM {table} WHERE {position} = ?",
        tampered.positions()[8],
    )

    tampered.sql(
        "INSERT INTO {table} (originator_id, originator_version, topic, state)"
        f" VALUES (?, 99, ?, {stored_as})",
        originator,
        topic,
        state,
    )

    forged = tampered.positions()[-1]
    assert tampered.verify() == Break(forged, "version 99 follows 8: forged or removed")


def test_an_edit_to_an_event_after_the_checkpoint_with_its_seal_removed_is_detected(
    tampered: Store,
) -> None:
    full_incident(tampered.services.ledger, "K-late")  # after the signed checkpoint
    tampered.services.catch_up_seals()
    newest = tampered.positions()[-1]
    [(state,)] = tampered.sql("SELECT state FROM {table} WHERE {position} = ?", newest)
    tampered.sql("UPDATE {table} SET state = ? WHERE {position} = ?", bytes(state)[:-1], newest)
    with tampered.services.read_models.begin() as conn:
        conn.execute(sa.delete(event_seals).where(event_seals.c.position == newest))

    assert tampered.verify() == Break(newest, "an event that was never sealed was inserted")


def test_deleting_the_newest_events_and_resealing_is_caught_by_the_signed_checkpoint(
    tampered: Store,
) -> None:
    newest = tampered.positions()[-3:]
    for position in newest:
        tampered.sql("DELETE FROM {table} WHERE {position} = ?", position)
    reseal(tampered)

    assert tampered.verify() == Break(newest[-1], "the log ends before a signed checkpoint")


def test_events_removed_from_the_end_with_their_seals_show_against_the_services_own_checkpoint(
    tampered: Store,
) -> None:
    services = tampered.services
    services.start_sealing()  # as the worker does
    assert services.checkpoints is not None
    services.checkpoints.stop()  # this test runs its round itself, once the seals are made
    full_incident(services.ledger, "K-late")  # after the fixture's checkpoint
    services.catch_up_seals()
    services.checkpoints.sign()
    newest = tampered.positions()[-3:]
    assert newest[-1] in [c.position for c in load_checkpoints(services.read_models)]

    with services.read_models.begin() as conn:
        conn.execute(sa.delete(event_seals).where(event_seals.c.position.in_(newest)))
    for position in newest:
        tampered.sql("DELETE FROM {table} WHERE {position} = ?", position)

    assert tampered.verify() == Break(newest[-1], "the log ends before a signed checkpoint")


def test_events_removed_from_the_end_with_their_seals_and_checkpoints_show_against_one_kept_apart(
    tampered: Store,
) -> None:
    """Deleting the stored checkpoints too leaves the log vouched for by nothing, and the
    checkpoint the auditor kept elsewhere names the end that was cut."""
    [kept] = load_checkpoints(tampered.services.read_models)
    newest = tampered.positions()[-3:]
    assert newest[-1] == kept.position
    with tampered.services.read_models.begin() as conn:
        conn.execute(sa.delete(event_seals).where(event_seals.c.position.in_(newest)))
        conn.execute(sa.delete(checkpoints))
    for position in newest:
        tampered.sql("DELETE FROM {table} WHERE {position} = ?", position)

    stored_only = tampered.verdict()

    assert (stored_only.first_break, stored_only.signed_up_to) == (None, None)
    assert tampered.verify([kept]) == Break(
        kept.position, "the log ends before a signed checkpoint"
    )


def test_changing_an_old_event_and_resealing_everything_after_it_is_caught_by_the_checkpoint(
    tampered: Store,
) -> None:
    position = tampered.positions()[5]
    [(state,)] = tampered.sql("SELECT state FROM {table} WHERE {position} = ?", position)
    changed = bytes(state).replace(b"KCSD", b"KCSO").replace(b"KPD", b"KPO")
    assert changed != bytes(state)
    tampered.sql("UPDATE {table} SET state = ? WHERE {position} = ?", changed, position)
    reseal(tampered)

    found = tampered.verify()

    assert found == Break(tampered.positions()[-1], "the digest differs from a checkpoint")


def reseal(tampered: Store) -> None:
    """The attacker recomputes every seal from the tampered log."""
    resealed = list(chain(stored_events(tampered.services.ledger.recorder)))
    with tampered.services.read_models.begin() as conn:
        conn.execute(sa.delete(event_seals))
        for seal in resealed:
            conn.execute(
                sa.insert(event_seals).values(
                    position=seal.position,
                    originator_id=seal.originator_id,
                    originator_version=seal.version,
                    previous_hash=seal.previous_hash,
                    event_hash=seal.event_hash,
                    log_digest=seal.log_digest,
                )
            )
