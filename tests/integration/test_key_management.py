"""Issue 6 (part): keys are listed by id only, revoked, expired and rotated from the CLI."""

import subprocess
from datetime import timedelta
from unittest.mock import ANY

from app.keys import create_key, principal_of
from app.principals import Principal, Role
from app.services import build_services
from app.settings import Settings
from tests.integration.server import CLI, environment


def cli(settings: Settings, *args: str) -> str:
    done = subprocess.run([CLI, *args], env=environment(settings), capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


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
    refused = subprocess.run(
        [CLI, "create-key", "--agency", "WI-DOJ", "--role", "cad"],
        env=environment(sqlite_settings),
        capture_output=True,
        text=True,
    )

    services = build_services(sqlite_settings)
    try:
        found = principal_of(services.read_models, key)
    finally:
        services.close()
    assert found == Principal(ANY, "WI-DOJ", Role.STATE_AUDITOR)
    assert found.sees is None
    assert refused.returncode != 0
