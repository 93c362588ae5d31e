"""The OpenAPI document is a contract: every write has an example, and the examples, posted in
the order of their story, work exactly as written."""

from typing import Any

from app.principals import Role
from tests.api.conftest import Service

REQUEST = "/v1/incidents/{incident_id}/requests/{number}"
# (path template, the agency that posts it, the request number) in the story's order.
STORY = [
    ("/v1/incidents", "KPD", 1),
    ("/v1/incidents/{incident_id}/requests", "KPD", 1),
    (REQUEST + "/cancel", "KPD", 2),
    (REQUEST + "/approve", "KPD", 1),
    (REQUEST + "/respond", "KCSD", 1),
    (REQUEST + "/officers", "KCSD", 1),
    (REQUEST + "/arrive", "KCSD", 1),
    (REQUEST + "/recall", "KCSD", 1),
    (REQUEST + "/officers/{badge}/involvement", "KCSD", 1),
    (REQUEST + "/release", "KPD", 1),
    ("/v1/incidents/{incident_id}/close", "KPD", 1),
    ("/v1/incidents/{incident_id}/obligations/{number}/fulfil", "KPD", 1),
    ("/v1/incidents/{incident_id}/corrections", "KPD", 1),
    ("/v1/activities", "ALSIP-PD", 1),
]


ADMIN = {"/v1/admin/keys", "/v1/admin/keys/{key_id}/rotate"}


def example_of(spec: dict[str, Any], path: str) -> Any:
    content = spec["paths"][path]["post"]["requestBody"]["content"]["application/json"]
    return content["examples"]["kenosha"]["value"]


def test_every_write_operation_has_a_request_example(sqlite_service: Service) -> None:
    spec = sqlite_service.client.get("/openapi.json").json()
    posts = {path for path, ops in spec["paths"].items() if "requestBody" in ops.get("post", {})}

    assert posts == {path for path, _, _ in STORY} | ADMIN
    for path in posts:
        assert example_of(spec, path)


def test_every_operation_documents_its_answer_and_its_problems(sqlite_service: Service) -> None:
    spec = sqlite_service.client.get("/openapi.json").json()
    for path, operations in spec["paths"].items():
        if not path.startswith("/v1/"):
            continue
        for operation in operations.values():
            answers = operation["responses"]
            assert any(code.startswith("2") for code in answers), path
            assert "401" in answers, path


def test_every_write_documents_its_key_and_its_headers(sqlite_service: Service) -> None:
    spec = sqlite_service.client.get("/openapi.json").json()
    for path, _, _ in STORY:
        operation = spec["paths"][path]["post"]
        headers = {p["name"] for p in operation["parameters"] if p["in"] == "header"}

        assert operation["security"] == [{"HTTPBearer": []}], path
        assert headers == {"If-Match", "Idempotency-Key"}, path
    assert "HTTPBearer" in spec["components"]["securitySchemes"]


def test_the_examples_work_as_written_in_story_order(sqlite_service: Service) -> None:
    spec = sqlite_service.client.get("/openapi.json").json()
    cads = {agency: sqlite_service.cad(agency) for _, agency, _ in STORY}
    incident_id = ""

    for template, agency, number in STORY:
        path = template.format(incident_id=incident_id, number=number, badge="D-101")
        answer = cads[agency].post(path, example_of(spec, template))
        assert answer.status_code in (200, 201), (template, answer.text)
        incident_id = answer.json()["incident_id"]


def test_the_key_examples_work_as_written(sqlite_service: Service) -> None:
    spec = sqlite_service.client.get("/openapi.json").json()
    admin = sqlite_service.cad("KPD", Role.ADMIN)

    made = admin.post("/v1/admin/keys", example_of(spec, "/v1/admin/keys"))
    key_id = admin.get("/v1/admin/keys").json()[-1]["key_id"]
    rotate = example_of(spec, "/v1/admin/keys/{key_id}/rotate")
    rotated = admin.post(f"/v1/admin/keys/{key_id}/rotate", rotate)

    assert (made.status_code, rotated.status_code) == (201, 201)
