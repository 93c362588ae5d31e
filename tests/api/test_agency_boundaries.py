"""Issue 2, must show 5: a caller of agency X cannot act for agency Y by any field in the
body, nor act on an incident it is not a party to. Nothing is stored by any attempt."""

from typing import Any

import pytest

from tests.api import bodies
from tests.api.conftest import Service
from tests.api.test_bad_inputs import World, answered_incident

P = "urn:mutual-aid-ledger:problem:"


@pytest.fixture
def world(sqlite_service: Service) -> World:
    """Answered by KCSD, and PPPD asked as well (request 2)."""
    answered = answered_incident(sqlite_service)
    ask_pppd = {**bodies.stamped(), **bodies.request_fields("PPPD")}
    assert answered.kpd.post(answered.at("/requests"), ask_pppd).status_code == 201
    return answered


def refused(service: Service, answer: Any, status: int, slug: str, before: int) -> None:
    assert (answer.status_code, answer.json()["type"]) == (status, P + slug), answer.text
    assert service.log_length() == before


@pytest.mark.parametrize(
    "field",
    [
        {"agency": "KCSD"},
        {"requesting_agency": "KCSD"},
        {"version": 7},
        {"status": "closed"},
        {"recorded_at": "2026-11-01T02:00:00Z"},
        {"incident_id": "00000000-0000-0000-0000-000000000000"},
    ],
    ids=lambda f: next(iter(f)),
)
def test_server_owned_fields_in_a_body_are_refused(
    sqlite_service: Service, world: World, field: dict[str, Any]
) -> None:
    before = sqlite_service.log_length()

    answer = world.kpd.post(world.at("/close"), {**bodies.stamped(outcome="done"), **field})

    refused(sqlite_service, answer, 422, "validation-failed", before)


def test_an_actor_cannot_claim_another_agency(sqlite_service: Service, world: World) -> None:
    before = sqlite_service.log_length()
    actor = {**bodies.actor(), "agency": "KCSD"}

    answer = world.kpd.post(world.at("/requests/2/approve"), bodies.stamped(actor=actor))

    refused(sqlite_service, answer, 422, "validation-failed", before)


def test_a_response_cannot_commit_officers_of_another_agency(
    sqlite_service: Service, world: World
) -> None:
    world.kpd.post(world.at("/requests/2/approve"), bodies.stamped())
    before = sqlite_service.log_length()
    officers = [{"name": "Deputy Lee", "badge": "D-101", "agency": "KCSD"}]
    pppd = sqlite_service.cad("PPPD")

    answer = pppd.post(world.at("/requests/2/respond"), bodies.respond_body(officers=officers))

    refused(sqlite_service, answer, 422, "validation-failed", before)


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/requests/2/approve", bodies.stamped()),
        ("/requests/1/release", bodies.stamped(everything=True)),
        ("/requests/2/cancel", bodies.stamped()),
        ("/close", bodies.stamped(outcome="done", release_all=True)),
        ("/requests", {**bodies.stamped(), **bodies.request_fields("RACINE-PD")}),
    ],
    ids=["approve", "release", "cancel", "close", "ask another agency"],
)
def test_the_agency_asked_cannot_act_for_the_requesting_agency(
    sqlite_service: Service, world: World, path: str, body: dict[str, Any]
) -> None:
    before = sqlite_service.log_length()

    answer = world.kcsd.post(world.at(path), body)

    refused(sqlite_service, answer, 403, "not-authorized", before)


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/requests/2/respond", bodies.respond_body()),
        ("/requests/1/recall", bodies.stamped(everything=True)),
    ],
    ids=["respond", "recall"],
)
def test_the_requesting_agency_cannot_act_for_the_agency_asked(
    sqlite_service: Service, world: World, path: str, body: dict[str, Any]
) -> None:
    before = sqlite_service.log_length()

    answer = world.kpd.post(world.at(path), body)

    refused(sqlite_service, answer, 403, "not-authorized", before)


def test_a_request_made_to_another_agency_does_not_exist_for_an_agency_asked(
    sqlite_service: Service, world: World
) -> None:
    world.kpd.post(world.at("/requests/2/approve"), bodies.stamped())
    before = sqlite_service.log_length()

    answer = world.kcsd.post(world.at("/requests/2/respond"), bodies.respond_body())

    refused(sqlite_service, answer, 404, "request-not-found", before)


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/requests/1/approve", bodies.stamped()),
        ("/requests/1/respond", bodies.respond_body()),
        ("/requests/1/recall", bodies.stamped(everything=True)),
        ("/close", bodies.stamped(outcome="done")),
        ("/requests/1/officers/D-101/involvement", bodies.stamped(involvement="x")),
    ],
    ids=["approve", "respond", "recall", "close", "involvement"],
)
def test_an_agency_not_party_gets_404_so_the_incident_does_not_leak(
    sqlite_service: Service, world: World, path: str, body: dict[str, Any]
) -> None:
    before = sqlite_service.log_length()

    answer = world.outsider.post(world.at(path), body)

    refused(sqlite_service, answer, 404, "incident-not-found", before)


@pytest.mark.parametrize("path", ["", "/reports/summary", "/reports/full"])
def test_an_agency_not_party_cannot_read_the_incident(world: World, path: str) -> None:
    answer = world.outsider.get(world.at(path))

    assert (answer.status_code, answer.json()["type"]) == (404, P + "incident-not-found")


def test_an_agency_not_party_does_not_see_the_incident_listed(
    sqlite_service: Service, world: World
) -> None:
    listed = world.outsider.get("/v1/incidents", min_position=sqlite_service.log_length())
    asked = world.kcsd.get("/v1/incidents", min_position=sqlite_service.log_length())

    assert listed.json()["items"] == []
    assert [i["incident_id"] for i in asked.json()["items"]] == [world.incident]
