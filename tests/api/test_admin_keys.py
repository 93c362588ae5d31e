"""Issue 6: an agency's administrator lists, creates, rotates and revokes its own agency's keys
over the API; keys are shown once and never listed; no other agency's key is within reach."""

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.keys import create_key, list_keys
from app.main import create_app
from app.principals import Principal, Role
from app.services import build_services
from app.settings import Settings
from tests.api import bodies
from tests.api.conftest import Cad, Service

P = "urn:mutual-aid-ledger:problem:"


def new_key(admin: Cad, role: str) -> str:
    made = admin.post("/v1/admin/keys", {"role": role, "label": f"{role} key", "valid_days": 30})
    assert made.status_code == 201, made.text
    return str(made.json()["key"])


def test_a_key_made_over_the_api_acts_for_its_agency_with_its_role(
    sqlite_service: Service,
) -> None:
    admin = sqlite_service.cad("KPD", Role.ADMIN)
    board = Cad(sqlite_service.client, "KPD", new_key(admin, "dashboard"))

    listed = board.get("/v1/incidents")
    write = board.post("/v1/incidents", bodies.open_body())
    [mine] = [k for k in admin.get("/v1/admin/keys").json() if k["role"] == "dashboard"]

    assert listed.status_code == 200
    assert (write.status_code, write.json()["type"]) == (403, P + "insufficient-scope")
    assert mine["agency"] == "KPD"
    assert mine["valid_until"] is not None
    assert board.key not in admin.get("/v1/admin/keys").text


def test_a_rotated_key_replaces_the_old_and_a_revoked_key_stops(sqlite_service: Service) -> None:
    admin = sqlite_service.cad("KPD", Role.ADMIN)
    old = Cad(sqlite_service.client, "KPD", new_key(admin, "cad"))
    key_id = next(k["key_id"] for k in admin.get("/v1/admin/keys").json() if k["role"] == "cad")

    rotated = admin.post(f"/v1/admin/keys/{key_id}/rotate", {"grace_hours": 0})
    new = Cad(sqlite_service.client, "KPD", rotated.json()["key"])
    new_id = admin.get("/v1/admin/keys").json()[-1]["key_id"]
    before_revoke = new.get("/v1/incidents").status_code
    revoked = admin.post(f"/v1/admin/keys/{new_id}/revoke", None)

    assert old.get("/v1/incidents").status_code == 401
    assert before_revoke == 200
    assert revoked.status_code == 200
    assert new.get("/v1/incidents").status_code == 401


def test_an_admin_reaches_only_its_own_agency_and_never_an_all_agency_role(
    sqlite_service: Service,
) -> None:
    admin = sqlite_service.cad("KPD", Role.ADMIN)
    other = sqlite_service.cad("KCSD", Role.ADMIN)
    new_key(other, "cad")
    theirs = other.get("/v1/admin/keys").json()[-1]["key_id"]

    listed = admin.get("/v1/admin/keys").json()
    revoke = admin.post(f"/v1/admin/keys/{theirs}/revoke", None)
    state = admin.post("/v1/admin/keys", {"role": "state-auditor", "label": "x"})
    elsewhere = admin.post("/v1/admin/keys", {"role": "cad", "label": "x", "agency": "KCSD"})

    assert {k["agency"] for k in listed} == {"KPD"}
    assert (revoke.status_code, revoke.json()["type"]) == (404, P + "key-not-found")
    assert (state.status_code, state.json()["type"]) == (422, P + "validation-failed")
    assert elsewhere.json()["errors"][0]["type"] == "server_owned"
    assert other.get("/v1/admin/keys").status_code == 200


def test_an_admin_may_create_exactly_the_roles_it_lists_and_each_sees_only_its_agency(
    sqlite_service: Service,
) -> None:
    admin = sqlite_service.cad("KPD", Role.ADMIN)
    for role in Role:
        sqlite_service.cad("KPD", role)
    schema = sqlite_service.client.get("/openapi.json").json()["components"]["schemas"]

    offered = schema["KeyIn"]["properties"]["role"]["enum"]  # explicit, for Schemathesis
    listed = {k["role"] for k in admin.get("/v1/admin/keys").json()}

    assert set(offered) == listed
    assert {Principal("", "KPD", Role(role)).sees for role in offered} == {"KPD"}


def test_an_ended_key_is_not_rotated_back_to_life(sqlite_service: Service) -> None:
    admin = sqlite_service.cad("KPD", Role.ADMIN)
    old = Cad(sqlite_service.client, "KPD", new_key(admin, "cad"))
    key_id = next(k["key_id"] for k in admin.get("/v1/admin/keys").json() if k["role"] == "cad")
    admin.post(f"/v1/admin/keys/{key_id}/revoke", None)
    revoked = next(k for k in admin.get("/v1/admin/keys").json() if k["key_id"] == key_id)

    rotated = admin.post(f"/v1/admin/keys/{key_id}/rotate", {"grace_hours": 720})

    listed = admin.get("/v1/admin/keys").json()
    assert (rotated.status_code, rotated.json()["type"]) == (409, P + "key-ended")
    assert old.get("/v1/incidents").status_code == 401
    assert next(k for k in listed if k["key_id"] == key_id) == revoked
    assert len(listed) == 2  # the admin's key and the revoked one: no new key


def test_a_rotated_key_ends_when_the_old_one_would_have(sqlite_service: Service) -> None:
    admin = sqlite_service.cad("KPD", Role.ADMIN)
    made = admin.post("/v1/admin/keys", {"role": "cad", "label": "CAD", "valid_days": 1})
    [before] = [k for k in admin.get("/v1/admin/keys").json() if k["role"] == "cad"]

    rotated = admin.post(f"/v1/admin/keys/{before['key_id']}/rotate", {"grace_hours": 720})

    [old, new] = [k for k in admin.get("/v1/admin/keys").json() if k["role"] == "cad"]
    assert (made.status_code, rotated.status_code) == (201, 201)
    assert {**old, "rotated_at": None} == before  # the grace ends later than the key: its end
    assert old["rotated_at"] is not None  # stays, and the list shows it was rotated
    assert new["valid_until"] == before["valid_until"]


def test_a_key_in_its_grace_is_not_rotated_again(sqlite_service: Service) -> None:
    admin = sqlite_service.cad("KPD", Role.ADMIN)
    old = Cad(sqlite_service.client, "KPD", new_key(admin, "cad"))
    key_id = next(k["key_id"] for k in admin.get("/v1/admin/keys").json() if k["role"] == "cad")

    first = admin.post(f"/v1/admin/keys/{key_id}/rotate", {"grace_hours": 24})
    again = admin.post(f"/v1/admin/keys/{key_id}/rotate", {"grace_hours": 24})

    listed = admin.get("/v1/admin/keys").json()
    assert first.status_code == 201
    assert (again.status_code, again.json()["type"]) == (409, P + "key-ended")
    assert old.get("/v1/incidents").status_code == 200  # still in its grace
    assert len(listed) == 3  # the admin's key, the old one and one new key
    assert next(k for k in listed if k["key_id"] == key_id)["rotated_at"] is not None


@pytest.mark.postgres
def test_an_admin_manages_keys_when_the_service_runs_as_its_own_role(
    postgres_url: str, service_role_url: str, tmp_path: Path
) -> None:
    owner = build_services(Settings(database_url=postgres_url))
    admin_key = create_key(owner.read_models, "KPD", "key officer", role=Role.ADMIN)
    owner.close()
    settings = Settings(database_url=service_role_url, create_tables=False, data_dir=tmp_path)

    with TestClient(create_app(settings)) as client:
        admin = Cad(client, "KPD", admin_key)
        made = admin.post("/v1/admin/keys", {"role": "cad", "label": "CAD", "valid_days": 30})
        key_id = admin.get("/v1/admin/keys").json()[-1]["key_id"]
        rotated = admin.post(f"/v1/admin/keys/{key_id}/rotate", {"grace_hours": 1})
        revoked = admin.post(f"/v1/admin/keys/{key_id}/revoke", None)
        new = Cad(client, "KPD", rotated.json()["key"]).get("/v1/incidents")

    assert (made.status_code, rotated.status_code, revoked.status_code) == (201, 201, 200)
    assert new.status_code == 200


def test_an_admin_neither_sees_nor_rotates_nor_revokes_a_state_auditors_key(
    sqlite_service: Service,
) -> None:
    admin = sqlite_service.cad("KPD", Role.ADMIN)
    # One made before the CLI refused an agency of the directory for a state auditor.
    state = sqlite_service.cad("KPD", Role.STATE_AUDITOR)
    [state_id] = [
        k["key_hash"]
        for k in list_keys(sqlite_service.services.read_models)
        if k["role"] == "state-auditor"
    ]

    listed = admin.get("/v1/admin/keys").json()
    rotated = admin.post(f"/v1/admin/keys/{state_id}/rotate", {"grace_hours": 0})
    revoked = admin.post(f"/v1/admin/keys/{state_id}/revoke", None)

    assert [k["role"] for k in listed] == ["admin"]
    assert (rotated.status_code, rotated.json()["type"]) == (404, P + "key-not-found")
    assert (revoked.status_code, revoked.json()["type"]) == (404, P + "key-not-found")
    assert state.get("/v1/audit/bundle").status_code == 200
