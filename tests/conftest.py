import os
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import psycopg
import pytest

from app.services import Services, build_services
from app.settings import Settings
from app.store import grant_service_role
from tests.postgres import create_database, drop_database, remove_cluster, start_cluster


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """One server per test session; each test gets its own database on it."""
    if url := os.environ.get("MAL_TEST_POSTGRES_URL"):
        yield url
        return
    cluster = start_cluster()
    try:
        yield cluster.url
    finally:
        remove_cluster(cluster)


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    url = create_database(postgres_server)
    try:
        yield url
    finally:
        drop_database(postgres_server, url)


@pytest.fixture
def service_role_url(postgres_url: str) -> str:
    """The database as its owner sets it up for production (tables made, `mutual-aid
    grant-service-role mal_service`), and a URL for the role the service then runs as."""
    owner = build_services(Settings(database_url=postgres_url))
    try:
        with psycopg.connect(postgres_url, autocommit=True) as conn:
            conn.execute("DROP ROLE IF EXISTS mal_service")
            conn.execute("CREATE ROLE mal_service LOGIN")
        grant_service_role(owner.ledger.recorder, "mal_service")
    finally:
        owner.close()
    return postgres_url.replace("postgres@", "mal_service@", 1)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def settings(store: str, tmp_path: Path, request: pytest.FixtureRequest) -> Settings:
    """Settings for a fresh, empty service on the store the test is parametrized with."""
    if store == "postgres":
        url = request.getfixturevalue("postgres_url")
        return Settings(database_url=url, data_dir=tmp_path)
    return Settings(data_dir=tmp_path)


@pytest.fixture
def cli_environment(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """The test's settings as the MAL_* variables the command line reads."""
    for name, value in settings.model_dump(exclude_none=True).items():
        monkeypatch.setenv(f"MAL_{name.upper()}", str(value))


@pytest.fixture
def services(settings: Settings) -> Iterator[Services]:
    """The service's parts, without HTTP, on the store the test is parametrized with."""
    with closing(build_services(settings)) as built:
        yield built


@pytest.fixture
def sqlite_services(sqlite_settings: Settings) -> Iterator[Services]:
    """The same on SQLite only, for what only SQLite has."""
    with closing(build_services(sqlite_settings)) as built:
        yield built


@pytest.fixture
def sqlite_settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path)
