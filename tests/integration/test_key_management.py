"""Issue 6 (part): keys are listed by id only, revoked, expired and rotated from the CLI. The
commands refuse a data directory without a store, and validities the admin API would refuse,
and say in a line what is wrong with a database they cannot use. A rotation never brings an
ended key back or outlasts the old key."""

import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from unittest.mock import ANY

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory

from app.keys import (
    IssuedKey,
    KeyEnded,
    RecentKeys,
    api_keys,
    create_key,
    end_key,
    list_keys,
    principal_of,
    rotate_key,
)
from app.migrations import alembic_config
from app.principals import Principal, Role
from app.services import Services, build_services
from app.settings import Settings
from tests.integration.server import CLI, environment


def run(settings: Settings, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CLI, *args], env={**environment(settings), **env}, capture_output=True, text=True
    )


def cli(settings: Settings, *args: str) -> str:
    done = run(settings, *args)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@pytest.fixture(autouse=True)
def store(sqlite_settings: Settings) -> None:
    """The key commands work on the store the service (or `migrate`) made."""
    cli(sqlite_settings, "migrate")


def test_a_key_is_listed_by_id_then_revoked_and_stops_working(sqlite_settings: Settings) -> None:
    key = cli(sqlite_settings, "create-key", "--agency", "KPD", "--label", "CAD primary")
    [listed] = cli(sqlite_settings, "keys", "list").splitlines()
    key_id = listed.split()[0]

    cli(sqlite_settings, "keys", "revoke", key_id)

    services = build_services(sqlite_settings)
    try:
        assert principal_of(services.read_models, key) is None
    finally:
        services.close()
    assert key not in listed
    assert "KPD" in listed
    assert "CAD primary" in listed


def test_a_rotated_key_works_beside_the_old_one_until_the_grace_ends(
    sqlite_settings: Settings,
) -> None:
    old = cli(sqlite_settings, "create-key", "--agency", "KCSD", "--role", "auditor")
    key_id = cli(sqlite_settings, "keys", "list").split()[0]

    new = cli(sqlite_settings, "keys", "rotate", key_id, "--grace-hours", "0")

    services = build_services(sqlite_settings)
    try:
        assert principal_of(services.read_models, new) == Principal(ANY, "KCSD", Role.AUDITOR)
        assert principal_of(services.read_models, old) is None
    finally:
        services.close()


def test_a_key_rotated_once_is_not_rotated_again_in_its_grace(sqlite_settings: Settings) -> None:
    cli(sqlite_settings, "create-key", "--agency", "KPD")
    key_id = cli(sqlite_settings, "keys", "list").split()[0]
    cli(sqlite_settings, "keys", "rotate", key_id, "--grace-hours", "24")

    again = run(sqlite_settings, "keys", "rotate", key_id, "--grace-hours", "24")

    assert again.returncode == 2
    assert "was rotated" in again.stderr
    assert len(cli(sqlite_settings, "keys", "list").splitlines()) == 2


def test_an_expired_key_is_refused(sqlite_settings: Settings) -> None:
    services = build_services(sqlite_settings)
    try:
        expired = create_key(services.read_models, "KPD", "temp", valid_for=timedelta(seconds=-1))
        current = create_key(services.read_models, "KPD", "temp", valid_for=timedelta(days=1))

        assert principal_of(services.read_models, expired) is None
        assert principal_of(services.read_models, current) == Principal(ANY, "KPD", Role.CAD)
    finally:
        services.close()


def test_a_state_auditor_key_names_a_state_body_outside_the_directory(
    sqlite_settings: Settings,
) -> None:
    key = cli(sqlite_settings, "create-key", "--agency", "WI-DOJ", "--role", "state-auditor")
    refused = run(sqlite_settings, "create-key", "--agency", "WI-DOJ", "--role", "cad")

    services = build_services(sqlite_settings)
    try:
        found = principal_of(services.read_models, key)
    finally:
        services.close()
    assert found == Principal(ANY, "WI-DOJ", Role.STATE_AUDITOR)
    assert found.sees is None
    assert refused.returncode != 0


def test_a_state_auditor_key_is_refused_under_an_agency_of_the_directory(
    sqlite_settings: Settings,
) -> None:
    done = run(sqlite_settings, "create-key", "--agency", "KPD", "--role", "state-auditor")

    assert done.returncode == 2
    assert "KPD is an agency of the directory" in done.stderr
    assert cli(sqlite_settings, "keys", "list") == ""


@pytest.mark.parametrize(
    "command",
    [("create-key", "--agency", "KPD"), ("keys", "list"), ("rebuild",), ("export", "{tmp}/b")],
)
def test_a_command_given_a_data_directory_without_a_store_refuses_and_makes_none(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    typo = tmp_path / "dta"

    done = run(Settings(data_dir=typo), *(arg.format(tmp=tmp_path) for arg in command))

    assert done.returncode == 2
    assert "no event store" in done.stderr
    assert not typo.exists()


@pytest.mark.parametrize(
    "flags",
    [
        ("create-key", "--agency", "KPD", "--valid-days", "0"),
        ("create-key", "--agency", "KPD", "--valid-days", "-1"),
        ("keys", "rotate", "{key_id}", "--grace-hours", "-48"),
        ("keys", "rotate", "{key_id}", "--grace-hours", "721"),
    ],
)
def test_a_validity_outside_what_the_admin_api_allows_is_refused(
    sqlite_settings: Settings, flags: tuple[str, ...]
) -> None:
    cli(sqlite_settings, "create-key", "--agency", "KCSD")
    keys = cli(sqlite_settings, "keys", "list")

    done = run(sqlite_settings, *(flag.format(key_id=keys.split()[0]) for flag in flags))

    assert done.returncode == 2
    assert "Invalid value" in done.stderr
    assert cli(sqlite_settings, "keys", "list") == keys


def test_a_process_that_may_not_migrate_says_so_in_a_line(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "unmigrated")
    settings.data_dir.mkdir()
    settings.sqlite_files.events.touch()  # a store whose read models were never migrated

    done = run(settings, "keys", "list", MAL_CREATE_TABLES="false")

    scripts = ScriptDirectory.from_config(alembic_config(settings.migrations_dir))
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        f"error: the read-model tables are at revision none, not {scripts.get_current_head()}:"
        " run `mutual-aid migrate` as the tables' owner"
    ]


def test_serve_refuses_tables_it_may_not_migrate_in_a_line(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "unmigrated")
    settings.data_dir.mkdir()
    settings.sqlite_files.events.touch()

    done = run(settings, "serve", "--port", "9", MAL_CREATE_TABLES="false")

    assert done.returncode == 1
    [line] = done.stderr.splitlines()
    assert line.startswith("error: the read-model tables are at revision none, not ")


def test_an_unreachable_database_is_reported_in_a_line(sqlite_settings: Settings) -> None:
    done = run(sqlite_settings, "keys", "list", MAL_DATABASE_URL="postgresql://mal@127.0.0.1:9/mal")

    assert done.returncode == 1
    assert done.stderr.startswith("error: ")
    assert "Traceback" not in done.stderr


def test_an_expired_key_is_not_rotated_and_keeps_its_end(services: Services) -> None:
    engine = services.read_models
    expired = create_key(engine, "KPD", "temp", valid_for=timedelta(seconds=-1))
    [before] = list_keys(engine)

    with pytest.raises(KeyEnded):
        rotate_key(engine, before["key_hash"], timedelta(hours=720))
    end_key(engine, before["key_hash"], datetime.now(UTC))

    assert list_keys(engine) == [before]
    assert principal_of(engine, expired) is None


def test_a_rotated_key_keeps_the_old_keys_end_and_never_extends_it(services: Services) -> None:
    engine = services.read_models
    create_key(engine, "KPD", "CAD", valid_for=timedelta(hours=1))
    [before] = list_keys(engine)

    rotate_key(engine, before["key_hash"], timedelta(hours=720))

    assert [k["valid_until"] for k in list_keys(engine)] == [before["valid_until"]] * 2


def test_recent_keys_remember_ended_keys_never_guesses_and_at_most_their_limit(
    services: Services,
) -> None:
    engine = services.read_models
    ended = [create_key(engine, "KPD", "old", valid_for=timedelta(seconds=-1)) for _ in range(3)]
    keys = RecentKeys(engine, limit=2)

    for key in [*ended, "mal_guess"]:
        keys.issued(key)

    assert [keys.recent(key) for key in ended] == [None, IssuedKey(None), IssuedKey(None)]
    assert keys.recent("mal_guess") is None


T_LATER = datetime.now(UTC) + timedelta(days=365)


@pytest.mark.parametrize(
    "change",
    [
        {"valid_until": None},
        {"valid_until": T_LATER},
        {"rotated_at": None},
        {"agency": "WI-DOJ"},
        {"role": "state-auditor"},
    ],
)
def test_the_store_never_brings_a_key_back_nor_changes_whose_it_is(
    services: Services, change: dict[str, object]
) -> None:
    engine = services.read_models
    key = create_key(engine, "KPD", "CAD", valid_for=timedelta(days=1))
    [made] = list_keys(engine)
    rotate_key(engine, made["key_hash"], timedelta(hours=1))
    end_key(engine, made["key_hash"], datetime.now(UTC))
    before = list_keys(engine)

    refused = pytest.raises(sa.exc.DBAPIError, match="never extended, revived or reassigned")
    with refused, engine.begin() as conn:
        conn.execute(sa.update(api_keys).values(change))

    assert list_keys(engine) == before
    assert principal_of(engine, key) is None
