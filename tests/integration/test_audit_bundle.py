"""Issue 5, must show 3: an exported bundle verifies offline, with the CLI and the public key
alone; the same bundle with any single event changed fails, naming the event."""

import base64
import json
import subprocess
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from app.audit import Break, public_key_of
from app.audit_store import make_checkpoint
from app.bundle import verify_bundle, write_bundle
from app.services import build_services
from app.settings import Settings
from tests.integration.server import CLI
from tests.scenarios import full_incident

KEY = Ed25519PrivateKey.generate()


def exported(settings: Settings, path: Path) -> list[str]:
    services = build_services(settings)
    try:
        for n in range(3):
            full_incident(services.ledger, f"K-{n}")
        services.sealer.run_until_caught_up()
        make_checkpoint(services.read_models, KEY)
        with path.open("w") as out:
            write_bundle(out, services.ledger.recorder, services.read_models)
    finally:
        services.close()
    return path.read_text().splitlines()


def offline(bundle: Path, key: str) -> subprocess.CompletedProcess[str]:
    """The CLI with no settings at all: no database, no service."""
    command = [CLI, "verify-bundle", str(bundle), "--public-key", key]
    return subprocess.run(command, capture_output=True, text=True, env={"PATH": "/usr/bin:/bin"})


def test_an_exported_bundle_verifies_offline(settings: Settings, tmp_path: Path) -> None:
    bundle = tmp_path / "audit.jsonl"
    exported(settings, bundle)

    done = offline(bundle, public_key_of(KEY))

    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok: 24 events verified"


def test_the_bundle_with_any_single_event_changed_fails_at_that_event(
    settings: Settings, tmp_path: Path
) -> None:
    lines = exported(settings, tmp_path / "audit.jsonl")
    events = [n for n, line in enumerate(lines) if line.startswith('{"event"')]

    for n in events:
        record = json.loads(lines[n])
        state = bytearray(base64.b64decode(record["event"]["state"]))
        state[len(state) // 2] ^= 0x20
        record["event"]["state"] = base64.b64encode(state).decode()
        changed = [*lines[:n], json.dumps(record), *lines[n + 1 :]]

        verdict = verify_bundle(changed, public_key_of(KEY))

        position = record["event"]["position"]
        assert verdict.first_break == Break(position, "the event's content differs from its seal")


def test_a_bundle_is_trusted_only_under_the_auditors_public_key(
    settings: Settings, tmp_path: Path
) -> None:
    bundle = tmp_path / "audit.jsonl"
    exported(settings, bundle)

    done = offline(bundle, public_key_of(Ed25519PrivateKey.generate()))

    assert done.returncode == 1
    assert "checkpoint signature is not valid" in done.stderr


def test_a_trusted_key_that_could_verify_nothing_is_refused(tmp_path: Path) -> None:
    bundle = tmp_path / "empty.jsonl"
    bundle.touch()  # no checkpoint: a key would never be tried

    done = offline(bundle, "00")

    assert done.returncode == 2
    assert "not an Ed25519 public key" in done.stderr
