"""Issue 3, must show 3 and 4: an agency's profile is a file, and a new version of it never
changes how the past reads."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings
from tests.api import bodies
from tests.api.conftest import Service

AGENCIES = """
[[agencies]]
code = "LAKEVIEW-PD"
name = "Lakeview Police Department"
jurisdiction = "City of Lakeview (made up)"
profile = "lakeview-xx"
"""

PROFILE = """
id = "lakeview-xx"
version = {version}
effective = {effective}
title = "Lakeview PD General Order 7: Mutual Aid"
default_section = "Lakeview GO 7.1"
ranks = ["officer", "sergeant", "lieutenant", "captain", "chief"]

[authorities.request]
section = "Lakeview GO 7.2: requests are made by a lieutenant or higher"
min_rank = "lieutenant"

[[obligations]]
trigger = "request_made"
kind = "notify"
recipients = ["{recipient}"]
section = "Lakeview GO 7.{version}: notify the {recipient}"
"""


def write_profile(folder: Path, version: int, effective: str, recipient: str) -> None:
    profile = PROFILE.format(version=version, effective=effective, recipient=recipient)
    (folder / "profiles" / f"lakeview-xx-v{version}.toml").write_text(profile)


@pytest.fixture
def policy_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "policies"
    (folder / "profiles").mkdir(parents=True)
    (folder / "agencies.toml").write_text(AGENCIES)
    write_profile(folder, 1, "2026-01-01", "Duty Captain")
    return folder


def running(settings: Settings) -> Iterator[Service]:
    app = create_app(settings)
    with TestClient(app) as client:
        yield Service(client, app.state.services)


def open_incident(service: Service, case: str, rank: str, at: str = bodies.T0) -> Any:
    body = bodies.open_body(case, "KCSD", occurred_at=at)
    body["actor"] = bodies.actor(rank=rank)
    return service.cad("LAKEVIEW-PD").post("/v1/incidents", body)


def obligations(service: Service, incident: str) -> list[Any]:
    path = f"/v1/incidents/{incident}/reports/summary"
    report = service.cad("LAKEVIEW-PD").get(path, min_position=service.log_length())
    return [(o["recipients"], o["rule"]) for o in report.json()["obligations"]]


def test_a_sixth_agency_profile_is_added_as_a_file_without_code_changes(
    tmp_path: Path, policy_dir: Path
) -> None:
    for service in running(Settings(data_dir=tmp_path, policy_dir=policy_dir)):
        refused = open_incident(service, "L-1", "sergeant")
        allowed = open_incident(service, "L-2", "lieutenant")

        assert refused.status_code == 403
        assert refused.json()["rule"]["section"].startswith("Lakeview GO 7.2")
        assert allowed.status_code == 201
        assert obligations(service, allowed.json()["incident_id"]) == [
            (
                ["Duty Captain"],
                {
                    "policy_id": "lakeview-xx",
                    "version": 1,
                    "section": "Lakeview GO 7.1: notify the Duty Captain",
                },
            )
        ]


def test_a_new_profile_version_leaves_past_decisions_as_they_were_recorded(
    tmp_path: Path, policy_dir: Path
) -> None:
    settings = Settings(data_dir=tmp_path, policy_dir=policy_dir)
    for service in running(settings):
        past = open_incident(service, "L-1", "lieutenant").json()["incident_id"]
        recorded = obligations(service, past)
    write_profile(policy_dir, 2, "2026-11-15", "Watch Commander")

    for service in running(settings):
        service.services.projection.rebuild()
        new = open_incident(service, "L-2", "lieutenant", at="2026-11-20T08:00:00Z")
        late_entry = open_incident(service, "L-3", "lieutenant", at="2026-11-02T08:00:00Z")

        assert obligations(service, past) == recorded
        assert [rule["version"] for _, rule in obligations(service, new.json()["incident_id"])] == [
            2
        ]
        assert obligations(service, late_entry.json()["incident_id"])[0][1]["version"] == 1
