"""Issue 6, must show 1: every endpoint x every role x the caller's relation to the object
(the agency that requested the incident, the agency asked on it, an agency not party) answers
as specified, stores nothing when refused, and never shows one agency what belongs to another.

A role without the endpoint's scope gets 403 (what a role may do is no secret); an object the
caller may not see gets 404 (so its existence does not leak); a party that may see the incident
but not do the step gets the domain's 403. Answers an agency asked may read must not name PPPD,
whose own request on the same incident is not its business; answers to an agency not party
must not name the incident at all.
"""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient
from pydantic import SecretStr

from app.access_log import access_log
from app.keys import create_key, list_keys
from app.main import create_app
from app.principals import SCOPES, Role, Scope
from app.settings import Settings
from tests.api import bodies
from tests.api.conftest import Cad, Service

P = "urn:mutual-aid-ledger:problem:"
AGENCY_OF = {"requester": "KPD", "asked": "KCSD", "outsider": "RACINE-PD"}
ROLES = list(Role)
SENT: list[str] = []  # the path of every request the test client sent
STAGES = ("opened", "approved", "answered")


@dataclass
class World:
    """KPD asked KCSD (request 1) and PPPD (request 2), taken to ``stage`` on request 1."""

    incident: str
    kpd_key_id: str  # a key of KPD's, for the key administration endpoints


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str  # {incident} and {key_id} are filled from the world
    scope: Scope
    body: Callable[[], Any] | None = None
    on: str | None = None  # "incident" or "key": the object the caller must be entitled to
    by: tuple[str, ...] = ("requester", "asked")  # who the domain lets take the step
    stage: str = "answered"
    ok: int = 200
    names_others: bool = False  # the directory names every agency, by design
    params: tuple[tuple[str, str], ...] = ()

    @property
    def writes(self) -> bool:
        return self.method == "POST"


INC = "/v1/incidents/{incident}"
REQ = INC + "/requests/1"
REQUESTER, ASKED = ("requester",), ("asked",)
AFTER = bodies.AFTER_RESPONSE  # what follows the response in the "answered" stage
ENDPOINTS = [
    Endpoint("POST", "/v1/incidents", Scope.WRITE, lambda: bodies.open_body("N-1", "PPPD"), ok=201),
    Endpoint(
        "POST",
        "/v1/activities",
        Scope.WRITE,
        lambda: bodies.stamped(case_number="A-1", nature="x", location="y", jurisdiction="PPPD"),
        ok=201,
    ),
    Endpoint(
        "POST",
        INC + "/requests",
        Scope.WRITE,
        lambda: {**bodies.stamped(), **bodies.request_fields("WCSD")},
        "incident",
        REQUESTER,
        "opened",
        201,
    ),
    Endpoint(
        "POST", REQ + "/approve", Scope.WRITE, bodies.stamped, "incident", REQUESTER, "opened"
    ),
    Endpoint(
        "POST", REQ + "/respond", Scope.WRITE, bodies.respond_body, "incident", ASKED, "approved"
    ),
    Endpoint(
        "POST",
        REQ + "/officers",
        Scope.WRITE,
        lambda: bodies.stamped(AFTER, officers=[{"name": "Deputy Kim", "badge": "D-103"}]),
        "incident",
        ASKED,
    ),
    Endpoint("POST", REQ + "/arrive", Scope.WRITE, lambda: bodies.stamped(AFTER), "incident"),
    Endpoint(
        "POST",
        REQ + "/recall",
        Scope.WRITE,
        lambda: bodies.stamped(AFTER, everything=True),
        "incident",
        ASKED,
    ),
    Endpoint(
        "POST",
        REQ + "/release",
        Scope.WRITE,
        lambda: bodies.stamped(AFTER, everything=True),
        "incident",
        REQUESTER,
    ),
    Endpoint(
        "POST",
        REQ + "/cancel",
        Scope.WRITE,
        lambda: bodies.stamped(),
        "incident",
        REQUESTER,
        "approved",
    ),
    Endpoint(
        "POST",
        REQ + "/officers/D-101/involvement",
        Scope.WRITE,
        lambda: bodies.stamped(AFTER, involvement="held the line"),
        "incident",
    ),
    Endpoint(
        "POST", INC + "/obligations/1/fulfil", Scope.WRITE, bodies.stamped, "incident", REQUESTER
    ),
    Endpoint(
        "POST",
        INC + "/close",
        Scope.WRITE,
        lambda: bodies.stamped(AFTER, outcome="done", release_all=True),
        "incident",
        REQUESTER,
    ),
    Endpoint(
        "POST",
        INC + "/corrections",
        Scope.WRITE,
        lambda: bodies.stamped(fact="incident.nature", value="Riot", reason="typo"),
        "incident",
        REQUESTER,
    ),
    Endpoint("GET", "/v1/incidents", Scope.READ),
    Endpoint("GET", INC, Scope.READ, on="incident"),
    Endpoint("GET", INC + "/reports/summary", Scope.READ, on="incident"),
    Endpoint("GET", INC + "/reports/full", Scope.READ, on="incident"),
    Endpoint("GET", "/v1/stream", Scope.READ),
    Endpoint("GET", "/v1/agencies", Scope.DIRECTORY, names_others=True),
    Endpoint("GET", "/v1/routing/suggestions", Scope.WRITE, names_others=True),
    Endpoint("GET", "/v1/board", Scope.DASHBOARD),
    Endpoint(
        "GET",
        "/v1/statistics",
        Scope.DASHBOARD,
        params=(("start", "2026-11-01T00:00:00Z"), ("end", "2026-12-01T00:00:00Z")),
    ),
    Endpoint("GET", INC + "/history", Scope.AUDIT, on="incident"),
    Endpoint("GET", INC + "/history.html", Scope.AUDIT, on="incident"),
    Endpoint("GET", INC + "/as-of", Scope.AUDIT, on="incident", params=(("version", "4"),)),
    Endpoint("GET", INC + "/verify", Scope.AUDIT, on="incident"),
    Endpoint("GET", "/v1/access-log", Scope.AUDIT),
    Endpoint("GET", "/v1/audit/verify", Scope.ALL_AGENCIES),
    Endpoint("GET", "/v1/audit/checkpoints", Scope.ALL_AGENCIES),
    Endpoint("POST", "/v1/audit/checkpoints", Scope.ALL_AGENCIES, dict, ok=201),
    Endpoint("GET", "/v1/audit/bundle", Scope.ALL_AGENCIES),
    Endpoint("GET", "/v1/admin/keys", Scope.KEYS),
    Endpoint(
        "POST",
        "/v1/admin/keys",
        Scope.KEYS,
        lambda: {"role": "dashboard", "label": "board"},
        ok=201,
    ),
    Endpoint("POST", "/v1/admin/keys/{key_id}/revoke", Scope.KEYS, dict, "key", REQUESTER),
    Endpoint("POST", "/v1/admin/keys/{key_id}/rotate", Scope.KEYS, dict, "key", REQUESTER, ok=201),
]


@pytest.fixture
def service(tmp_path: Path) -> Any:
    signing = SecretStr(Ed25519PrivateKey.generate().private_bytes_raw().hex())
    app = create_app(Settings(data_dir=tmp_path, signing_key=signing))
    with TestClient(app) as client:
        client.event_hooks["request"].append(lambda request: SENT.append(request.url.path))
        SENT.clear()
        yield Service(client, app.state.services)


def build_world(service: Service, case_number: str, stage: str) -> World:
    kpd, kcsd = service.cad("KPD"), service.cad("KCSD")
    incident = kpd.open(case_number, asked="KCSD")
    at = f"/v1/incidents/{incident}"
    steps = [(kpd, "/requests", {**bodies.stamped(), **bodies.request_fields("PPPD")})]
    if stage != "opened":
        steps.append((kpd, "/requests/1/approve", bodies.stamped()))
    if stage == "answered":  # a third officer committed, not yet named
        three = [{"resource": "patrol_officer", "quantity": 3}]
        steps.append((kcsd, "/requests/1/respond", bodies.respond_body(resources=three)))
    for cad, path, body in steps:
        answer = cad.post(at + path, body)
        assert answer.status_code in (200, 201), answer.text
    key_id = list_keys(service.services.read_models, "KPD")[0]["key_hash"]
    return World(incident, key_id)


def expected(endpoint: Endpoint, role: Role, relation: str) -> tuple[int, str | None]:
    if endpoint.scope not in SCOPES[role]:
        return 403, "insufficient-scope"
    everywhere = Scope.ALL_AGENCIES in SCOPES[role]
    if endpoint.on == "incident" and relation == "outsider" and not everywhere:
        return 404, "incident-not-found"
    if endpoint.on == "key" and relation != "requester":
        return 404, "key-not-found"
    if endpoint.writes and endpoint.on and relation not in endpoint.by:
        return 403, "not-authorized"
    return endpoint.ok, None


def call(service: Service, endpoint: Endpoint, caller: Cad, world: World) -> Any:
    path = endpoint.path.format(incident=world.incident, key_id=world.kpd_key_id)
    if endpoint.method == "POST":
        return caller.post(path, endpoint.body() if endpoint.body else None)
    if endpoint.path == "/v1/stream":
        return first_batch(service.client, path, caller)
    return caller.get(path, min_position=service.log_length(), **dict(endpoint.params))


@dataclass
class Streamed:
    status_code: int
    text: str

    def json(self) -> Any:
        return {"type": P + "stream"}


def first_batch(client: TestClient, path: str, caller: Cad) -> Any:
    """The events the stream sends before it first goes idle."""
    with client.stream("GET", path, headers=caller.headers()) as answer:
        if answer.status_code != 200:
            answer.read()
            return answer
        lines = []
        for line in answer.iter_lines():
            if line.startswith(": idle"):
                break
            lines.append(line)
    return Streamed(200, "\n".join(lines))


def caller_for(service: Service, role: Role, relation: str) -> Cad:
    agency = "WI-DOJ" if role == Role.STATE_AUDITOR else AGENCY_OF[relation]
    key = create_key(service.services.read_models, agency, "matrix", role=role)
    return Cad(service.client, agency, key)


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: f"{e.method} {e.path}")
def test_every_role_and_relation_gets_exactly_its_answer(
    service: Service, endpoint: Endpoint
) -> None:
    shared = build_world(service, "SHARED", endpoint.stage)
    for n, (role, relation) in enumerate((r, rel) for r in ROLES for rel in AGENCY_OF):
        status, slug = expected(endpoint, role, relation)
        # A step that succeeds changes its world, so each gets a fresh one.
        world = build_world(service, f"C-{n}", endpoint.stage) if status < 300 else shared
        caller = caller_for(service, role, relation)
        before = service.log_length()

        answer = call(service, endpoint, caller, world)

        cell = f"{role.value} as {relation}: {answer.text[:300]}"
        assert answer.status_code == status, cell
        if slug:
            assert answer.json()["type"] == P + slug, cell
            assert service.log_length() == before, cell
        elif role != Role.STATE_AUDITOR and not endpoint.names_others:
            assert_nothing_of_others(answer.text, relation, world, cell)
    assert_every_request_logged(service)


def test_every_endpoint_asks_for_a_key_and_every_request_is_logged(service: Service) -> None:
    world = build_world(service, "SHARED", "answered")
    for endpoint in ENDPOINTS:
        path = endpoint.path.format(incident=world.incident, key_id=world.kpd_key_id)
        answer = service.client.request(endpoint.method, path, json={})

        assert (answer.status_code, answer.json()["type"]) == (401, P + "unauthenticated"), path
    assert_every_request_logged(service)


def assert_every_request_logged(service: Service) -> None:
    """Must show 5: one access log entry per request sent, allowed or refused, in order."""
    with service.services.access_log.connect() as conn:
        logged = conn.execute(sa.select(access_log.c.path).order_by(access_log.c.id)).scalars()
        assert list(logged) == SENT


def assert_nothing_of_others(text: str, relation: str, world: World, cell: str) -> None:
    if relation == "asked":
        assert "PPPD" not in text, cell
    if relation == "outsider":
        assert world.incident not in text, cell
        assert "KPD" not in text, cell
        assert "KCSD" not in text, cell


def test_every_operation_of_the_api_is_in_the_matrix(service: Service) -> None:
    spec = service.client.get("/openapi.json").json()
    operations = {
        (method.upper(), path)
        for path, ops in spec["paths"].items()
        for method in ops
        if path.startswith("/v1/")
    }
    covered = {(e.method, e.path.replace("{incident}", "{incident_id}")) for e in ENDPOINTS}
    templates = {(m, p.replace("/requests/1", "/requests/{number}")) for m, p in covered}
    templates = {
        (m, p.replace("/obligations/1", "/obligations/{number}").replace("D-101", "{badge}"))
        for m, p in templates
    }

    assert operations == templates
