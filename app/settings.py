"""The one place that reads configuration (environment variables prefixed ``MAL_``)."""

from ipaddress import ip_network
from pathlib import Path
from typing import Literal, NamedTuple
from urllib.parse import unquote, urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

APPLICATION_NAME = "MutualAidLedger"
SOURCE_ROOT = Path(__file__).resolve().parents[1]
WEAK_PASSWORDS = {"", "postgres", "password", "secret", "changeme", "mal"}


class SQLiteFiles(NamedTuple):
    """The embedded store's databases, each a file with its write-ahead log."""

    events: Path
    read_models: Path
    access_log: Path


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MAL_", extra="forbid")

    environment: Literal["development", "production"] = "development"
    # No URL: SQLite files under data_dir. A postgresql:// URL: PostgreSQL for everything.
    database_url: str | None = None
    data_dir: Path = Path("data")
    # Run the projection runner inside the API process (the embedded default). With several
    # API processes, turn this off and run one `mutual-aid project` worker instead.
    run_projections: bool = True
    projection_batch_size: int = Field(default=500, ge=1, le=10_000)
    # How often the runners look for new events by themselves. Writes wake them sooner: in
    # their own process at once, from other processes through the log watch.
    projection_poll_seconds: float = Field(default=1.0, gt=0, le=60)
    seal_poll_seconds: float = Field(default=1.0, gt=0, le=60)
    # How often the log watch (app/log_watch.py) reads the SQLite events file's version to see
    # other processes' writes; PostgreSQL notifies it instead.
    log_watch_seconds: float = Field(default=0.01, gt=0, le=60)
    # A live stream waits for the log to grow (app/log_watch.py:LogSignal), and looks by itself
    # this often anyway, sending a keep-alive comment when nothing came.
    stream_poll_seconds: float = Field(default=5.0, gt=0, le=60)
    # Incidents the ledger's writer keeps in memory as last stored, so that a command on one
    # of them reads nothing from the store.
    aggregate_cache_size: int = Field(default=1000, ge=1, le=1_000_000)
    # After a write wakes them, the runners wait this long so that writes arriving together
    # share one transaction. Reads wait on the projection (min_position), so it lingers
    # briefly; seals are only waited for by verification and checkpoints.
    projection_linger_seconds: float = Field(default=0.01, ge=0, le=1)
    seal_linger_seconds: float = Field(default=0.2, ge=0, le=10)
    # How long a read with ?min_position waits for the projections to catch up.
    read_wait_seconds: float = Field(default=5.0, ge=0, le=30)
    command_retries: int = Field(default=5, ge=1, le=50)
    max_page_size: int = Field(default=200, ge=1, le=1000)
    # An obligation ("as soon as practicable") still open after this long is overdue.
    obligation_due_minutes: int = Field(default=60, ge=1, le=7 * 24 * 60)
    max_body_bytes: int = Field(default=256 * 1024, ge=1024, le=16 * 1024 * 1024)
    # Read-model queries on PostgreSQL are cancelled after this long.
    query_timeout_ms: int = Field(default=5000, ge=100, le=120_000)
    # A folder like app/policies (agencies.toml, profiles/*.toml) adding agencies and profiles.
    policy_dir: Path | None = None
    # Ed25519 private key (32 bytes, hex) that signs log checkpoints; `mutual-aid keygen`
    # makes one. It never goes into the database.
    signing_key: SecretStr | None = None
    # With a signing key, the process that seals signs a checkpoint this often (when the log
    # grew): events removed from the end of the log show against the newest one, so this is
    # how long such a removal can go unnoticed. A checkpoint is one small row: at most 1,440
    # a day at the default.
    checkpoint_seconds: float = Field(default=60, gt=0, le=86_400)
    # Create the event tables at start. Off when the service runs as a role that may only
    # read and append (see `mutual-aid grant-service-role`); `mutual-aid migrate` then creates
    # them, run by the owner.
    create_tables: bool = True
    # Where alembic.ini and alembic/ live: the source tree, or where an image copied them.
    migrations_dir: Path = SOURCE_ROOT

    # Requests per minute allowed to each API key (429 beyond).
    rate_limit_per_minute: int = Field(default=6000, ge=1, le=1_000_000)
    # Lock a source out after 5 failed authentications. Off only for a fuzz or load run that
    # sends wrong keys on purpose from one address; production refuses to start without it.
    auth_lockout: bool = True
    # Origins allowed to call the API from a browser (CORS); none by default.
    cors_origins: list[str] = []
    # Addresses or networks of the reverse proxies whose X-Forwarded-For names the client
    # (the access log's source, the lockout's). None by default: the source is the peer, which
    # no header can forge; behind a proxy, name it, or every client shares its address.
    trusted_proxies: list[str] = []

    @field_validator("trusted_proxies")
    @classmethod
    def _addresses_only(cls, proxies: list[str]) -> list[str]:
        """An address or network each: a name or "*" would trust more than one proxy."""
        for proxy in proxies:
            ip_network(proxy, strict=False)
        return proxies

    @model_validator(mode="after")
    def _refuse_unsafe_production(self) -> "Settings":
        """Production needs PostgreSQL with a real password and a signing key."""
        if self.environment != "production":
            return self
        password = urlsplit(self.database_url or "").password or ""
        if password.lower() in WEAK_PASSWORDS:
            raise ValueError("production needs MAL_DATABASE_URL with a non-default password")
        if self.signing_key is None:
            raise ValueError("production needs MAL_SIGNING_KEY (see `mutual-aid keygen`)")
        if not self.auth_lockout:
            raise ValueError("production needs MAL_AUTH_LOCKOUT on")
        return self

    @model_validator(mode="after")
    def _check_database_url(self) -> "Settings":
        if self.database_url and urlsplit(self.database_url).scheme not in {
            "postgresql",
            "postgres",
        }:
            raise ValueError("database_url must be a postgresql:// URL (or unset for SQLite)")
        return self

    @property
    def uses_postgres(self) -> bool:
        return bool(self.database_url)

    @property
    def sqlite_files(self) -> SQLiteFiles:
        return SQLiteFiles(
            events=self.data_dir / "events.sqlite",
            read_models=self.data_dir / "read_models.sqlite",
            access_log=self.data_dir / "access_log.sqlite",
        )

    @property
    def access_log_spool(self) -> Path:
        """Where access log entries wait while the database is unavailable, on either store
        (app/access_spool.py)."""
        return self.data_dir / "access_log_spool"

    def read_model_url(self) -> str:
        """SQLAlchemy URL of the read models: the same PostgreSQL database, or its own file."""
        if self.database_url:
            rest = self.database_url.split("://", 1)[1]
            return f"postgresql+psycopg://{rest}"
        return f"sqlite:///{self.sqlite_files.read_models}"

    def event_store_env(self) -> dict[str, str]:
        """The `eventsourcing` environment; persistence is always explicit, never in memory."""
        create = {"CREATE_TABLE": "y" if self.create_tables else "n"}
        if not self.database_url:
            return {
                **create,
                "PERSISTENCE_MODULE": "app.store:LedgerSQLiteFactory",
                "SQLITE_DBNAME": str(self.sqlite_files.events),
                "SQLITE_LOCK_TIMEOUT": "10",
            }
        url = urlsplit(self.database_url)
        return {
            **create,
            "PERSISTENCE_MODULE": "app.store:LedgerPostgresFactory",
            "POSTGRES_DBNAME": url.path.lstrip("/"),
            "POSTGRES_HOST": url.hostname or "localhost",
            "POSTGRES_PORT": str(url.port or 5432),
            "POSTGRES_USER": unquote(url.username or ""),
            "POSTGRES_PASSWORD": unquote(url.password or ""),
            "POSTGRES_CONNECT_TIMEOUT": "2",
            "POSTGRES_LOCK_TIMEOUT": "5",
            # No round trip to test each connection taken from the pool (two or three per
            # batch of commands): a connection broken by a restart fails its batch once,
            # answered 503 with Retry-After, and is replaced (test_database_outage).
            "POSTGRES_PRE_PING": "n",
        }
