"""The audit endpoints: history an auditor reads, verification and signed checkpoints."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient
from pydantic import SecretStr

from app.audit import public_key_of
from app.main import create_app
from app.settings import Settings
from tests.api.conftest import Service
from tests.api.test_full_incident_lifecycle import run_lifecycle

KEY = Ed25519PrivateKey.generate()


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
    assert whole == {"ok": True, "checked": 14, "first_break": None}


def test_without_a_signing_key_no_checkpoint_is_made(sqlite_service: Service) -> None:
    answer = sqlite_service.state_auditor().post("/v1/audit/checkpoints", None)

    assert (answer.status_code, answer.json()["type"]) == (
        503,
        "urn:mutual-aid-ledger:problem:no-signing-key",
    )
