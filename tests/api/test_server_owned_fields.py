"""Issue 6, must show 2: every server-owned field, sent in the body of any write (or in its
actor), is refused by name, and nothing is stored."""

from typing import Any

import pytest

from api.schemas.commands import SERVER_OWNED
from app.keys import list_keys
from app.principals import Role
from tests.api.conftest import Service
from tests.api.test_bad_inputs import answered_incident
from tests.api.test_openapi import ADMIN, STORY, example_of

WRITES = sorted({path for path, _, _ in STORY} | ADMIN)


@pytest.mark.parametrize("path", WRITES)
def test_a_server_owned_field_in_any_write_is_refused_by_name(
    sqlite_service: Service, path: str
) -> None:
    world = answered_incident(sqlite_service)
    spec = sqlite_service.client.get("/openapi.json").json()
    caller = sqlite_service.cad("KPD", Role.ADMIN if path in ADMIN else Role.CAD)
    key_id = list_keys(sqlite_service.services.read_models, "KPD")[0]["key_hash"]
    url = path.format(incident_id=world.incident, number=1, badge="D-101", key_id=key_id)
    example = example_of(spec, path)
    before = sqlite_service.log_length()

    for field in sorted(SERVER_OWNED):
        for body in with_field(example, field, "KCSD"):
            answer = caller.post(url, body)

            assert answer.status_code == 422, (field, answer.text)
            [error] = answer.json()["errors"]
            assert error["type"] == "server_owned", (field, error)
            assert error["msg"] == f"{field} is set by the service, never by the caller"
    assert sqlite_service.log_length() == before


def with_field(example: dict[str, Any], field: str, value: Any) -> list[dict[str, Any]]:
    """The example with the field at the top, and in its actor when it has one."""
    bodies = [{**example, field: value}]
    if "actor" in example:
        bodies.append({**example, "actor": {**example["actor"], field: value}})
    return bodies
