"""Builds the running parts of the service from its settings; nothing is built at import."""

import gc
import logging
import threading
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from eventsourcing.persistence import InterfaceError, Notification, OperationalError
from eventsourcing.postgres import PostgresApplicationRecorder
from sqlalchemy.engine import Engine

from app.access_log import UNAVAILABLE, prepare_sqlite_store
from app.checkpoints import PeriodicCheckpoints
from app.ledger import MutualAidLedger
from app.log_watch import LogSignal, PostgresLogWatch, SqliteLogWatch
from app.migrations import check_at_head, setting_up_alone, sqlite_turns, upgrade_to_head
from app.policy_files import load_directory
from app.settings import Settings
from app.store import durability_warnings, state_bytes
from app.wal import WalCheckpointer, leave_checkpoints_to_the_thread
from projections import incident_view, seals
from projections.runner import ProjectionRunner
from projections.tables import JSON_CODEC

log = logging.getLogger(__name__)
# What the stores raise when they cannot be reached: answered 503, waited out at start-up.
STORE_UNAVAILABLE = (OperationalError, InterfaceError, *UNAVAILABLE)
INCIDENT_PROJECTION = "incidents"


def as_stored_event(n: Notification) -> seals.StoredEvent:
    # A forged event's state may be TEXT: sealed as it reads, verification then names it.
    state = state_bytes(n.state)
    return seals.StoredEvent(n.id, str(n.originator_id), n.originator_version, n.topic, state)


@dataclass
class Services:
    settings: Settings
    ledger: MutualAidLedger
    read_models: Engine
    projection: ProjectionRunner
    sealer: ProjectionRunner
    # The append-only access log: the read-model database on PostgreSQL; on SQLite a file of
    # its own, so that logging a request never waits on a projection's write.
    access_log: Engine
    # The read-model database as the projection runners write it (see projection_engine).
    projection_store: Engine
    # On SQLite: checkpoints the three databases' logs (app/wal.py).
    wal: WalCheckpointer | None
    # With a signing key: the signed checkpoints the sealing process makes (app/checkpoints.py).
    checkpoints: PeriodicCheckpoints | None = None
    # What wakes this process's runners and live streams on other processes' writes.
    log_watch: SqliteLogWatch | PostgresLogWatch | None = None
    # The live streams waiting for the log to grow.
    log_grew: LogSignal = field(default_factory=LogSignal)

    @property
    def runners(self) -> tuple[ProjectionRunner, ProjectionRunner]:
        return (self.projection, self.sealer)

    def signing_key(self) -> Ed25519PrivateKey | None:
        key = self.settings.signing_key
        return (
            Ed25519PrivateKey.from_private_bytes(bytes.fromhex(key.get_secret_value()))
            if key
            else None
        )

    def seal_to_head(self, timeout: float) -> bool:
        """Wait until every event in the log is sealed (by whichever process seals)."""
        head = self.ledger.recorder.max_notification_id() or 0
        return self.sealer.wait_for(head, timeout)

    def catch_up_seals(self, timeout: float = 60) -> None:
        """Seal what is left here, taking turns with any other process sealing."""
        self.sealer.run_until_caught_up()
        if not self.seal_to_head(timeout):
            raise RuntimeError("the log is not sealed up to its head")

    def wake(self, _position: int = 0, linger: bool = True) -> None:
        """The log grew: wake the runners (a process that runs none wakes nothing there) and
        the live streams."""
        for runner in self.runners:
            runner.wake(linger=linger)
        self.log_grew.notify()

    def watch_the_log(self) -> None:
        """Wake this process's runners and streams when another process writes."""
        recorder = self.ledger.recorder
        self.log_watch = (
            PostgresLogWatch(recorder, self.wake)
            if isinstance(recorder, PostgresApplicationRecorder)
            else SqliteLogWatch(
                self.settings.sqlite_files.events,
                # Each look gathers the writes of its interval: no linger on top of it.
                partial(self.wake, linger=False),
                self.settings.log_watch_seconds,
            )
        )
        self.log_watch.start()

    def start_sealing(self) -> None:
        """In the one process that seals: the sealer, and the checkpoints signed after it."""
        self.sealer.start()
        if private := self.signing_key():
            self.checkpoints = PeriodicCheckpoints(
                self.read_models, private, self.settings.checkpoint_seconds
            )
            self.checkpoints.start()

    def close(self) -> None:
        if self.checkpoints:
            self.checkpoints.stop()
        if self.log_watch:
            self.log_watch.stop()
        for runner in self.runners:
            runner.stop()
        if self.wal:
            self.wal.stop()
        self.ledger.close()
        self.read_models.dispose()
        self.access_log.dispose()
        self.projection_store.dispose()


def build_services(settings: Settings) -> Services:
    directory = load_directory(settings.policy_dir)  # first: a bad profile stops the start
    if not settings.uses_postgres:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = read_model_engine(settings)
    with setting_up_alone(engine):
        migrate = upgrade_to_head if settings.create_tables else check_at_head
        migrate(engine, settings.migrations_dir)
        ledger = MutualAidLedger(
            settings.event_store_env(),
            directory,
            retries=settings.command_retries,
            cache_size=settings.aggregate_cache_size,
        )
    # SQLite admits one writer at a time and makes the others sleep and retry; the runners of
    # this process take turns on this lock instead.
    writes: AbstractContextManager[Any] = (
        nullcontext() if settings.uses_postgres else threading.Lock()
    )
    projection_store = projection_engine(settings)
    projection = ProjectionRunner(
        INCIDENT_PROJECTION,
        ledger.recorder,
        ledger.mapper.to_domain_event,
        projection_store,
        incident_view.IncidentView(),
        batch_size=settings.projection_batch_size,
        poll_seconds=settings.projection_poll_seconds,
        linger_seconds=settings.projection_linger_seconds,
        write_lock=writes,
    )
    sealer = ProjectionRunner(
        seals.PROJECTION,
        ledger.recorder,
        as_stored_event,
        engine,  # durable: seals are never rebuilt, so none may be lost in a crash
        seals.seal_all,
        batch_size=settings.projection_batch_size,
        poll_seconds=settings.seal_poll_seconds,
        linger_seconds=settings.seal_linger_seconds,
        write_lock=writes,
    )

    for warning in durability_warnings(ledger.recorder):
        log.warning("durability: %s", warning)
    access = access_engine(settings, engine)
    wal = None
    if not settings.uses_postgres:
        wal = WalCheckpointer(settings.sqlite_files)
        wal.start()
    services = Services(settings, ledger, engine, projection, sealer, access, projection_store, wal)
    ledger.on_saved = services.wake
    return services


def tune_garbage_collector() -> None:
    """For a long-running process, once started: what start-up built (modules, routes,
    schemas, policies) is frozen out of the cycle collector's scans, and its youngest
    generation is collected after 20,000 new objects instead of 700, so the full
    collections, which walk every object the aggregate cache and the held rows keep, come
    that much less often. Reference counting still frees everything but cycles at once."""
    gc.freeze()
    gc.set_threshold(20_000, 10, 10)


def access_engine(settings: Settings, read_models: Engine) -> Engine:
    if settings.uses_postgres:
        return read_models
    engine = read_model_engine(settings, f"sqlite:///{settings.sqlite_files.access_log}")
    with sqlite_turns(engine):
        prepare_sqlite_store(engine, read_models)
    return engine


def projection_engine(settings: Settings) -> Engine:
    """The read-model database for the incident projection's batches, whose commits return
    before they reach the disk: PostgreSQL's synchronous_commit off, SQLite's synchronous
    NORMAL in WAL mode. A crash of the machine may undo the last batches, never part of one
    (their rows and the tracking position commit together), and the runner projects them
    again from the log, which keeps its own full durability. Commands never wait on these
    commits. Seals are not written here: they are never made again from the log."""
    return read_model_engine(settings, durable=False)


def read_model_engine(
    settings: Settings, url: str | None = None, *, durable: bool = True
) -> Engine:
    url = url or settings.read_model_url()
    if settings.uses_postgres:
        options = f"-c statement_timeout={settings.query_timeout_ms}"
        return sa.create_engine(
            url,
            pool_pre_ping=True,
            pool_size=10,
            max_overflow=10,
            connect_args={"options": options + ("" if durable else " -c synchronous_commit=off")},
            **JSON_CODEC,
        )
    engine = sa.create_engine(
        url, connect_args={"check_same_thread": False, "timeout": 30}, **JSON_CODEC
    )
    synchronous = "FULL" if durable else "NORMAL"

    def pragmas(dbapi_connection: Any, _record: object) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.close()
        leave_checkpoints_to_the_thread(dbapi_connection)

    sa.event.listen(engine, "connect", pragmas)
    return engine
