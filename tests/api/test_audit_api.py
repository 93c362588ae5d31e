"""The audit endpoints: history an auditor reads, verification and signed checkpoints."""

import sqlite3
from collections.abc import Iterator
from contextlib import closing
from dataclasses import asdict
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient
from pydantic import SecretStr

from app.audit import Break, public_key_of
from app.audit_store import make_checkpoint
from app.bundle import verify_bundle
from app.main import create_app
from app.settings import Settings
from tests.api.conftest import Service
from tests.api.test_full_incident_lifecycle import run_lifecycle

KEY = Ed25519PrivateKey.generate()
CHANGED = Break(4, "the event's content differs from its seal")


@pytest.fixture
def signing(tmp_path: Path) -> Iterator[Service]:
    settings = Settings(data_dir=tmp_path, signing_key=SecretStr(KEY.private_bytes_raw().hex()))
    app = create_app(settings)
    with TestClient(app) as client:
        yield Service(client, app.state.services)


def test_history_tells_each_step_in_plain_language(sqlite_service: Service) -> None:
    kpd = sqlite_service.cad("KPD")
    incident, _ = run_lifecycle(kpd, sqlite_service.cad("KCSD"), sqlite_service.cad("PPPD"))

    auditor = sqlite_service.auditor("KPD")
    page = auditor.get(f"/v1/incidents/{incident}/history", offset=2, limit=1).json()
    html = auditor.get(f"/v1/incidents/{incident}/history.html")

    [approval] = page["events"]
    assert page["total"] == 14
    assert approval["position"] == 3
    assert approval["line"] == (
        "Sgt. Dana Ruiz #412 (sergeant, KPD) approved request 1 under kenosha-wi v1, "
        "Kenosha 2.1 IV.A: made or approved by a supervisor (III.B: Sergeant or higher) "
        "before assistance"
    )
    assert html.headers["content-type"].startswith("text/html")
    assert "Lt. Ben Ortiz #77 (lieutenant, KCSD) recalled 1 patrol_officer" in html.text


def test_an_incident_and_the_whole_log_verify_after_a_checkpoint(signing: Service) -> None:
    kpd = signing.cad("KPD")
    incident, _ = run_lifecycle(kpd, signing.cad("KCSD"), signing.cad("PPPD"))

    state = signing.state_auditor()
    checkpoint = state.post("/v1/audit/checkpoints", None)
    one = signing.auditor("KCSD").get(f"/v1/incidents/{incident}/verify").json()
    whole = state.get("/v1/audit/verify").json()

    assert checkpoint.status_code == 201
    assert checkpoint.json()["public_key"] == public_key_of(KEY)
    assert one == {"ok": True, "checked": 14, "first_break": None, "differing_snapshots": []}
    assert whole == {"ok": True, "checked": 14, "first_break": None, "signed_up_to": 14}


def test_a_checkpoint_signed_with_a_key_the_service_does_not_hold_vouches_for_nothing(
    sqlite_service: Service,
) -> None:
    """As `mutual-aid checkpoint` does when run with a key the service was not started with:
    the log is not broken, it is only not vouched for by the service's key."""
    run_lifecycle(sqlite_service.cad("KPD"), sqlite_service.cad("KCSD"), sqlite_service.cad("PPPD"))
    sqlite_service.services.catch_up_seals()
    make_checkpoint(sqlite_service.services.read_models, Ed25519PrivateKey.generate())

    whole = sqlite_service.state_auditor().get("/v1/audit/verify").json()

    assert whole == {"ok": True, "checked": 14, "first_break": None, "signed_up_to": None}


def test_without_a_signing_key_no_checkpoint_is_made(sqlite_service: Service) -> None:
    answer = sqlite_service.state_auditor().post("/v1/audit/checkpoints", None)

    assert (answer.status_code, answer.json()["type"]) == (
        503,
        "urn:mutual-aid-ledger:problem:no-signing-key",
    )


def test_an_event_edited_into_text_is_reported_at_its_position(signing: Service) -> None:
    incident, _ = run_lifecycle(signing.cad("KPD"), signing.cad("KCSD"), signing.cad("PPPD"))
    state, auditor = signing.state_auditor(), signing.auditor("KCSD")
    signing.services.catch_up_seals()
    # The sqlite3 shell's replace() leaves TEXT where the BLOB was.
    edit_event(signing, 4, "replace(state, 'Two deputies', 'Six deputies')")

    whole = state.get("/v1/audit/verify").json()
    one = auditor.get(f"/v1/incidents/{incident}/verify").json()
    bundle = verify_bundle(state.get("/v1/audit/bundle").text.splitlines(), {public_key_of(KEY)})
    history = auditor.get(f"/v1/incidents/{incident}/history").json()

    assert whole["first_break"] == one["first_break"] == asdict(CHANGED)
    assert bundle.first_break == CHANGED
    assert history["events"][3]["data"]["response"]["facts"].startswith("Six deputies")


def test_an_event_that_no_longer_decodes_is_a_problem_not_a_server_error(
    signing: Service,
) -> None:
    incident, _ = run_lifecycle(signing.cad("KPD"), signing.cad("KCSD"), signing.cad("PPPD"))
    signing.services.catch_up_seals()
    edit_event(signing, 4, "x'7b'")  # a "{" alone

    history = signing.auditor("KPD").get(f"/v1/incidents/{incident}/history")
    whole = signing.state_auditor().get("/v1/audit/verify").json()

    assert (history.status_code, history.json()["type"]) == (
        409,
        "urn:mutual-aid-ledger:problem:undecodable-event",
    )
    assert whole["first_break"] == asdict(CHANGED)


def edit_event(service: Service, position: int, new_state: str) -> None:
    """Raw SQL, as the tables' owner could: drop the guard, then edit the stored event."""
    events = service.services.settings.data_dir / "events.sqlite"
    with closing(sqlite3.connect(events)) as db:
        db.execute("DROP TRIGGER stored_events_no_update")
        db.execute(f"UPDATE stored_events SET state = {new_state} WHERE rowid = ?", (position,))
        db.commit()
