"""Issue 5, must show 3: an exported bundle verifies offline, with the CLI and the public key
alone; the same bundle with any single event changed fails, naming the event."""

import base64
import json
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from app.audit import Break, public_key_of, sign
from app.audit_store import make_checkpoint
from app.bundle import verify_bundle, write_bundle
from app.services import build_services
from app.settings import Settings
from tests.integration.server import CLI
from tests.scenarios import full_incident

KEY = Ed25519PrivateKey.generate()
ROTATED = Ed25519PrivateKey.generate()


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


def offline(bundle: Path, key: str, *more: str) -> subprocess.CompletedProcess[str]:
    """The CLI with no settings at all: no database, no service."""
    command = [CLI, "verify-bundle", str(bundle), "--public-key", key, *more]
    return subprocess.run(command, capture_output=True, text=True, env={"PATH": "/usr/bin:/bin"})


def test_an_exported_bundle_verifies_offline(settings: Settings, tmp_path: Path) -> None:
    bundle = tmp_path / "audit.jsonl"
    exported(settings, bundle)

    done = offline(bundle, public_key_of(KEY))

    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok: 24 events verified, signed up to position 24"


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

        verdict = verify_bundle(changed, {public_key_of(KEY)})

        position = record["event"]["position"]
        assert verdict.first_break == Break(position, "the event's content differs from its seal")


def test_a_bundle_is_trusted_only_under_the_auditors_public_key(
    settings: Settings, tmp_path: Path
) -> None:
    bundle = tmp_path / "audit.jsonl"
    exported(settings, bundle)

    done = offline(bundle, public_key_of(Ed25519PrivateKey.generate()))

    assert done.returncode == 1
    assert "no checkpoint signed by a trusted key covers them" in done.stderr


@pytest.mark.parametrize("kept", ["every event", "all but the newest event and its seal", "none"])
def test_a_bundle_without_a_checkpoint_is_not_vouched_for(
    settings: Settings, tmp_path: Path, kept: str
) -> None:
    """Anyone can recompute the seals of a log they made up: only a signature vouches."""
    lines = [
        line for line in exported(settings, tmp_path / "audit.jsonl") if "checkpoint" not in line
    ]
    if kept != "every event":
        newest_event, newest_seal = 23, -1
        lines = (
            [] if kept == "none" else lines[:newest_event] + lines[newest_event + 1 : newest_seal]
        )
    bundle = tmp_path / "stripped.jsonl"
    bundle.write_text("\n".join(lines))

    done = offline(bundle, public_key_of(KEY))

    assert done.returncode == 1
    assert done.stderr.startswith("NOT VOUCHED FOR")


def test_checkpoints_signed_before_a_key_was_rotated_count_under_that_key(
    settings: Settings, tmp_path: Path
) -> None:
    lines = exported(settings, tmp_path / "audit.jsonl")  # signed at 24 with KEY
    services = build_services(settings)
    try:
        full_incident(services.ledger, "K-after-rotation")
        services.sealer.run_until_caught_up()
        make_checkpoint(services.read_models, ROTATED)
        with (tmp_path / "later.jsonl").open("w") as out:
            write_bundle(out, services.ledger.recorder, services.read_models)
    finally:
        services.close()
    later = (tmp_path / "later.jsonl").read_text().splitlines()

    both = verify_bundle(later, {public_key_of(KEY), public_key_of(ROTATED)})
    old_only = verify_bundle(later, {public_key_of(KEY)})

    assert (both.first_break, both.checked, both.signed_up_to) == (None, 32, 32)
    assert (old_only.first_break, old_only.checked, old_only.signed_up_to) == (None, 32, 24)
    assert len(later) > len(lines)


def test_an_altered_checkpoint_is_a_break_whoever_signed_it(
    settings: Settings, tmp_path: Path
) -> None:
    lines = exported(settings, tmp_path / "audit.jsonl")
    [n] = [n for n, line in enumerate(lines) if line.startswith('{"checkpoint"')]
    record = json.loads(lines[n])
    record["checkpoint"]["log_digest"] = "0" * 64

    verdict = verify_bundle([*lines[:n], json.dumps(record)], {public_key_of(ROTATED)})

    assert verdict.first_break == Break(24, "checkpoint signature is not valid")


def test_two_trusted_checkpoints_that_disagree_are_a_break(
    settings: Settings, tmp_path: Path
) -> None:
    lines = exported(settings, tmp_path / "audit.jsonl")
    forged = sign(KEY, 24, "0" * 64, datetime.now(UTC))

    verdict = verify_bundle(lines, {public_key_of(KEY)}, [forged])

    assert verdict.first_break == Break(24, "two signed checkpoints disagree")


def test_a_checkpoint_kept_apart_shows_events_cut_from_the_end_with_their_checkpoints(
    settings: Settings, tmp_path: Path
) -> None:
    """Whoever can write the store can delete the newest events with their seals and the
    stored checkpoints; the checkpoint the auditor kept elsewhere still names the end."""
    lines = exported(settings, tmp_path / "audit.jsonl")
    [kept] = [json.loads(line)["checkpoint"] for line in lines if line.startswith('{"checkpoint"')]
    (tmp_path / "kept.json").write_text(json.dumps(kept))
    cut = [line for line in lines if '"position": 24' not in line and "checkpoint" not in line]
    bundle = tmp_path / "cut.jsonl"
    bundle.write_text("\n".join(cut))

    done = offline(bundle, public_key_of(KEY), "--checkpoint", str(tmp_path / "kept.json"))

    assert done.returncode == 1
    assert done.stderr.strip() == "BROKEN at position 24: the log ends before a signed checkpoint"


@pytest.mark.parametrize(
    "line", ["not json", "[1]", '{"event": 5}', '{"seal": {"position": "x"}}', '{"a": 1, "b": 2}']
)
def test_a_line_that_is_no_bundle_record_is_named_not_a_traceback(
    tmp_path: Path, line: str
) -> None:
    bundle = tmp_path / "bad.jsonl"
    bundle.write_text(line + "\n")

    done = offline(bundle, public_key_of(KEY))

    assert (done.returncode, done.stderr) == (
        1,
        "error: line 1 is not an event, a seal or a checkpoint\n",
    )


def test_a_trusted_key_that_could_verify_nothing_is_refused(tmp_path: Path) -> None:
    bundle = tmp_path / "empty.jsonl"
    bundle.touch()  # no checkpoint: a key would never be tried

    done = offline(bundle, "00")

    assert done.returncode == 2
    assert "not an Ed25519 public key" in done.stderr
