"""Issue 2, must show 4: every bad input gets its 4xx problem response and leaves the log
unchanged. The incident under test is open, approved, and partially answered by KCSD."""

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import uuid4

import pytest

from tests.api import bodies
from tests.api.conftest import Cad, Service

P = "urn:mutual-aid-ledger:problem:"


@dataclass
class World:
    kpd: Cad
    kcsd: Cad
    outsider: Cad
    incident: str

    def at(self, path: str = "") -> str:
        return f"/v1/incidents/{self.incident}{path}"


@dataclass(frozen=True)
class Case:
    send: Callable[[World], Any]
    status: int
    slug: str


def raw(world: World, path: str, content: bytes, content_type: str = "application/json") -> Any:
    headers = {**world.kpd.headers(), "Content-Type": content_type}
    return world.kpd.client.post(world.at(path), content=content, headers=headers)


def opening(**overrides: Any) -> Callable[[World], Any]:
    return lambda w: w.kpd.post("/v1/incidents", {**bodies.open_body("K-NEW"), **overrides})


def asking(**overrides: Any) -> Callable[[World], Any]:
    fields = bodies.request_fields("PPPD", **overrides)
    return lambda w: w.kpd.post(w.at("/requests"), {**bodies.stamped(), **fields})


def responding(path: str = "/requests/1/respond", **overrides: Any) -> Callable[[World], Any]:
    return lambda w: w.kcsd.post(w.at(path), {**bodies.respond_body(), **overrides})


def recalling(**fields: Any) -> Callable[[World], Any]:
    return lambda w: w.kcsd.post(w.at("/requests/1/recall"), bodies.stamped(**fields))


def naming(*officers: dict[str, str]) -> Callable[[World], Any]:
    body = bodies.stamped(bodies.AFTER_RESPONSE, officers=list(officers))
    return lambda w: w.kcsd.post(w.at("/requests/1/officers"), body)


def by_kpd(path: str, **fields: Any) -> Callable[[World], Any]:
    return lambda w: w.kpd.post(w.at(path), bodies.stamped(**fields))


LINE = {"resource": "patrol_officer", "quantity": 1}
CURSOR_PAST_UTC = base64.urlsafe_b64encode(
    json.dumps(["9999-12-31T23:59:59-14:00", str(uuid4())]).encode()
).decode()
DEEP = b"[" * 3000 + b"]" * 3000  # deeper than Python's JSON parser goes
CURSOR_TOO_DEEP = base64.urlsafe_b64encode(DEEP).decode()
CASES = {
    "malformed json": Case(
        lambda w: raw(w, "/requests/1/approve", b'{"actor": '), 400, "malformed-json"
    ),
    "json not in utf-8": Case(
        lambda w: raw(w, "/close", b'{"outcome": "Ci\xff\xfe"}'), 400, "malformed-json"
    ),
    "json nested too deep": Case(lambda w: raw(w, "/close", DEEP), 400, "malformed-json"),
    "a number too long to read": Case(
        lambda w: raw(w, "/close", b'{"outcome": 1' + b"0" * 5000 + b"}"), 400, "malformed-json"
    ),
    "json nested too deep, sent as text, with an idempotency key": Case(
        lambda w: w.kpd.client.post(
            w.at("/close"),
            content=DEEP,
            headers=w.kpd.headers(**{"Content-Type": "text/plain", "Idempotency-Key": "k-1"}),
        ),
        422,
        "validation-failed",
    ),
    "not json at all": Case(
        lambda w: raw(w, "/close", b"close it", "text/plain"), 422, "validation-failed"
    ),
    "missing body": Case(lambda w: raw(w, "/close", b""), 422, "validation-failed"),
    "missing required field": Case(opening(nature=None), 422, "validation-failed"),
    "quantity as a string": Case(
        asking(resources=[{"resource": "patrol_officer", "quantity": "3"}]),
        422,
        "validation-failed",
    ),
    "zero quantity": Case(asking(resources=[{**LINE, "quantity": 0}]), 422, "validation-failed"),
    "negative quantity": Case(
        recalling(resources=[{**LINE, "quantity": -1}]), 422, "validation-failed"
    ),
    "no resources asked": Case(asking(resources=[]), 422, "validation-failed"),
    "name as a number": Case(
        by_kpd("/close", outcome="x", actor={"name": 7, "rank": "sgt"}), 422, "validation-failed"
    ),
    "bool as a string": Case(
        by_kpd("/close", outcome="x", release_all="yes"), 422, "validation-failed"
    ),
    "bad decision enum": Case(responding(decision="maybe"), 422, "validation-failed"),
    "unknown kind": Case(opening(kind="parade"), 422, "invalid-command"),
    "unknown field": Case(by_kpd("/requests/1/cancel", priority="high"), 422, "validation-failed"),
    "empty outcome": Case(by_kpd("/close", outcome=""), 422, "validation-failed"),
    "nul character in a text": Case(opening(nature="Civil\x00unrest"), 422, "validation-failed"),
    "nul character in a name": Case(
        by_kpd("/close", outcome="x", actor={"name": "Dana\x00", "rank": "sgt"}),
        422,
        "validation-failed",
    ),
    "nul character in a reason": Case(
        by_kpd("/requests/1/cancel", reason="\x00"), 422, "validation-failed"
    ),
    "over-long case number": Case(opening(case_number="K" * 65), 422, "validation-failed"),
    "case number with spaces": Case(opening(case_number="K 1"), 422, "validation-failed"),
    "time without offset": Case(
        by_kpd("/requests/1/cancel", occurred_at="2026-11-01T02:00:00"), 422, "validation-failed"
    ),
    "time in the future": Case(
        by_kpd("/requests/1/cancel", occurred_at="2099-01-01T00:00:00Z"), 422, "validation-failed"
    ),
    "no such obligation": Case(by_kpd("/obligations/99/fulfil"), 404, "obligation-not-found"),
    "time before 2000": Case(
        by_kpd("/requests/1/cancel", occurred_at="1999-12-31T23:59:59Z"), 422, "validation-failed"
    ),
    "opened in year 1": Case(opening(occurred_at="0001-01-01T00:00:00Z"), 422, "validation-failed"),
    "one resource on two lines": Case(
        asking(
            resources=[
                {"resource": "patrol_officer", "quantity": 1},
                {"resource": "patrol_officer", "quantity": 2},
            ]
        ),
        422,
        "validation-failed",
    ),
    "transport as text": Case(responding(provides_transport="no"), 422, "validation-failed"),
    "time that does not exist in UTC": Case(
        by_kpd("/requests/1/cancel", occurred_at="0001-01-01T00:00:00+14:00"),
        422,
        "validation-failed",
    ),
    "needed at a time past the end of UTC": Case(
        asking(needed_at="9999-12-31T23:59:59-14:00"), 422, "validation-failed"
    ),
    "time before the incident opened": Case(
        by_kpd("/close", outcome="x", occurred_at="2026-10-01T00:00:00Z"), 422, "invalid-command"
    ),
    "bad uuid in path": Case(
        lambda w: w.kpd.post("/v1/incidents/not-a-uuid/close", bodies.stamped(outcome="x")),
        422,
        "validation-failed",
    ),
    "cursor at a time outside UTC": Case(
        lambda w: w.kpd.get("/v1/incidents", cursor=CURSOR_PAST_UTC), 400, "bad-cursor"
    ),
    "cursor nested too deep": Case(
        lambda w: w.kpd.get("/v1/incidents", cursor=CURSOR_TOO_DEEP), 400, "bad-cursor"
    ),
    "unknown incident": Case(
        lambda w: w.kpd.post(
            "/v1/incidents/00000000-0000-0000-0000-000000000000/close", bodies.stamped(outcome="x")
        ),
        404,
        "incident-not-found",
    ),
    "unknown request number": Case(by_kpd("/requests/9/approve"), 404, "request-not-found"),
    "bad if-match": Case(
        lambda w: w.kpd.post(w.at("/close"), bodies.stamped(outcome="x"), **{"If-Match": "abc"}),
        422,
        "validation-failed",
    ),
    "if-match beyond any version": Case(
        lambda w: w.kpd.post(
            w.at("/close"), bodies.stamped(outcome="x"), **{"If-Match": "9" * 5000}
        ),
        422,
        "validation-failed",
    ),
    "idempotency key too long": Case(
        lambda w: w.kpd.post(
            w.at("/close"), bodies.stamped(outcome="x"), **{"Idempotency-Key": "k" * 201}
        ),
        422,
        "validation-failed",
    ),
    "stale if-match": Case(
        lambda w: w.kpd.post(w.at("/close"), bodies.stamped(outcome="x"), **{"If-Match": '"1"'}),
        412,
        "version-mismatch",
    ),
    "if-match on opening an incident": Case(
        lambda w: w.kpd.post("/v1/incidents", bodies.open_body("K-NEW"), **{"If-Match": '"1"'}),
        412,
        "version-mismatch",
    ),
    "no api key": Case(
        lambda w: w.kpd.client.post(w.at("/close"), json=bodies.stamped(outcome="x")),
        401,
        "unauthenticated",
    ),
    "wrong api key": Case(
        lambda w: w.kpd.client.post(
            w.at("/close"),
            json=bodies.stamped(outcome="x"),
            headers={"Authorization": "Bearer nope"},
        ),
        401,
        "unauthenticated",
    ),
    "asking one's own agency": Case(asking(asked_agency="KPD"), 422, "invalid-command"),
    "asking an unknown agency": Case(asking(asked_agency="NOWHERE-PD"), 422, "unknown-agency"),
    "asking an agency already helping": Case(asking(asked_agency="KCSD"), 409, "rule-violation"),
    "approving twice": Case(by_kpd("/requests/1/approve"), 409, "rule-violation"),
    "responding twice": Case(responding(), 409, "rule-violation"),
    "recalling more than deployed": Case(
        recalling(resources=[{**LINE, "quantity": 3}]), 422, "invalid-command"
    ),
    "recalling an officer not deployed": Case(
        recalling(officers=["D-999"]), 422, "invalid-command"
    ),
    "recalling an officer twice": Case(
        recalling(officers=["D-101", "D-101"]), 422, "invalid-command"
    ),
    "releasing an officer twice": Case(
        by_kpd("/requests/1/release", officers=["D-101", "D-101"]), 422, "invalid-command"
    ),
    "recalling nothing": Case(recalling(), 422, "invalid-command"),
    "cancelling an answered request": Case(by_kpd("/requests/1/cancel"), 409, "rule-violation"),
    "closing while deployed": Case(
        by_kpd("/close", outcome="done", occurred_at=bodies.AFTER_RESPONSE),
        409,
        "resources-still-deployed",
    ),
    "naming an officer already named": Case(
        naming({"name": "Deputy Ann Lee", "badge": "D-101"}), 409, "rule-violation"
    ),
    "naming more officers than committed": Case(
        naming({"name": "Deputy Kim", "badge": "D-103"}), 422, "invalid-command"
    ),
    "naming nobody": Case(naming(), 422, "validation-failed"),
    "involvement of an officer not sent": Case(
        lambda w: w.kcsd.post(
            w.at("/requests/1/officers/X-1/involvement"), bodies.stamped(involvement="x")
        ),
        422,
        "invalid-command",
    ),
    "fulfilling an unknown recipient": Case(
        by_kpd("/obligations/1/fulfil", recipients=["Mayor"]), 422, "invalid-command"
    ),
    "duplicate case number": Case(
        lambda w: w.kpd.post("/v1/incidents", bodies.open_body("K-2026-0001")),
        409,
        "duplicate-incident",
    ),
    "routine service": Case(opening(kind="attempt_to_locate"), 403, "policy-violation"),
}


def answered_incident(sqlite_service: Service) -> World:
    """KPD asked KCSD, approved, and KCSD sent two of four."""
    kpd, kcsd = sqlite_service.cad("KPD"), sqlite_service.cad("KCSD")
    incident = kpd.open("K-2026-0001", asked="KCSD")
    at = f"/v1/incidents/{incident}"
    assert kpd.post(at + "/requests/1/approve", bodies.stamped()).status_code == 200
    assert kcsd.post(at + "/requests/1/respond", bodies.respond_body()).status_code == 200
    return World(kpd, kcsd, sqlite_service.cad("RACINE-PD"), incident)


@pytest.fixture
def world(sqlite_service: Service) -> World:
    return answered_incident(sqlite_service)


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_a_bad_input_gets_its_problem_and_stores_nothing(
    sqlite_service: Service, world: World, case: Case
) -> None:
    before = sqlite_service.log_length()

    answer = case.send(world)

    assert (answer.status_code, answer.json()["type"]) == (case.status, P + case.slug), answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["detail"]
    assert sqlite_service.log_length() == before


def test_a_nul_character_is_refused_before_it_can_stop_the_projections(service: Service) -> None:
    """PostgreSQL's text cannot hold U+0000: one that reached the log stopped the projections
    at its event for good (reads waiting on min_position then answered 503)."""
    kpd = service.cad("KPD")
    body = bodies.open_body("K-NUL")
    body["request"]["facts"] = "Bottles\x00thrown"

    refused = kpd.post("/v1/incidents", body)
    kpd.open("K-AFTER")
    listed = kpd.get("/v1/incidents", min_position=service.log_length())

    assert (refused.status_code, refused.json()["type"]) == (422, P + "validation-failed")
    assert "NUL" in refused.text
    assert [i["case_number"] for i in listed.json()["items"]] == ["K-AFTER"]


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("DELETE", "/v1/incidents", "GET, POST"),
        ("OPTIONS", "/healthz", "GET"),
        ("GET", "/v1/admin/keys/0123456789ab/revoke", "POST"),
    ],
)
def test_a_method_not_allowed_is_answered_with_the_methods_that_are(
    sqlite_service: Service, method: str, path: str, allowed: str
) -> None:
    answer = sqlite_service.client.request(method, path)

    assert (answer.status_code, answer.json()["type"]) == (405, P + "method-not-allowed")
    assert answer.headers["Allow"] == allowed
