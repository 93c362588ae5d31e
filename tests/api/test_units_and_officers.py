"""A unit is one officer at most (Kenosha IV.C.1) through HTTP: a response, a naming, a recall
or a release that would leave more officers named and deployed than units deployed answers
422 and stores nothing; a recall that names the officer with the unit leaves the incident,
the full report, the board and the close's release agreeing on who is on scene."""

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from tests.api import bodies
from tests.api.conftest import Cad, Service

INVALID = "urn:mutual-aid-ledger:problem:invalid-command"
ORTIZ = bodies.actor("Lt. Ben Ortiz", "lieutenant", "77")
ONE = [{"resource": "patrol_officer", "quantity": 1}]
A_B_C = [{"name": f"Deputy {n}", "badge": f"D-{n}"} for n in "ABC"]


@dataclass
class Incident:
    kpd: Cad
    kcsd: Cad
    path: str

    def post(self, cad: Cad, step: str, body: dict[str, Any]) -> Any:
        return cad.post(self.path + step, body)

    def done(self, cad: Cad, step: str, body: dict[str, Any]) -> int:
        answer = self.post(cad, step, body)
        assert answer.status_code == 200, answer.text
        return int(answer.json()["position"])


def approved(service: Service) -> Incident:
    kpd, kcsd = service.cad("KPD"), service.cad("KCSD")
    incident = Incident(kpd, kcsd, f"/v1/incidents/{kpd.open()}")
    incident.done(kpd, "/requests/1/approve", bodies.stamped())
    return incident


def sent(service: Service) -> Incident:
    """KCSD answers with two units, deputies D-101 and D-102, under Lt. Ortiz (77)."""
    incident = approved(service)
    incident.done(incident.kcsd, "/requests/1/respond", bodies.respond_body())
    return incident


def three_sent_one_unnamed_recalled(service: Service) -> Incident:
    """KCSD commits three units naming D-A, then recalls one unit without a name."""
    incident = approved(service)
    three = [{"resource": "patrol_officer", "quantity": 3}]
    respond = bodies.respond_body(resources=three, officers=A_B_C[:1])
    incident.done(incident.kcsd, "/requests/1/respond", respond)
    incident.done(incident.kcsd, "/requests/1/recall", withdrawal(resources=ONE))
    return incident


def withdrawal(by: dict[str, Any] = ORTIZ, **fields: Any) -> dict[str, Any]:
    return {**bodies.stamped(bodies.AFTER_RESPONSE, actor=by), "reason": "needed", **fields}


def responding(**fields: Any) -> Callable[[Incident], Any]:
    return lambda i: i.post(i.kcsd, "/requests/1/respond", bodies.respond_body(**fields))


def recalling(**fields: Any) -> Callable[[Incident], Any]:
    return lambda i: i.post(i.kcsd, "/requests/1/recall", withdrawal(**fields))


def releasing(**fields: Any) -> Callable[[Incident], Any]:
    return lambda i: i.post(i.kpd, "/requests/1/release", withdrawal(bodies.actor(), **fields))


def naming(*officers: dict[str, str]) -> Callable[[Incident], Any]:
    body = {**bodies.stamped(bodies.AFTER_RESPONSE, actor=ORTIZ), "officers": list(officers)}
    return lambda i: i.post(i.kcsd, "/requests/1/officers", body)


# (the incident so far, the command refused, what its detail says)
REFUSED: dict[str, tuple[Callable[[Service], Incident], Callable[[Incident], Any], str]] = {
    "QA a: three officers named on one unit": (
        approved,
        responding(resources=ONE, officers=A_B_C, officer_in_charge=None),
        "3 officers named on 1 committed unit",
    ),
    "QA c: the officer in charge's badge under another name": (
        approved,
        responding(officers=[{"name": "Lt. Ben Ortiz dup", "badge": "77"}]),
        "badge 77 is named both",
    ),
    "QA b: a recall of an officer without a unit": (
        sent,
        recalling(officers=["D-101"]),
        "1 named officer.s. withdrawn with 0 unit",
    ),
    "a recall of a unit without its officer": (
        sent,
        recalling(resources=ONE),
        "leave 2 named officer.s. deployed on 1 unit.*name the officers who leave",
    ),
    "a release of an officer without a unit": (
        sent,
        releasing(officers=["D-102"]),
        "1 named officer.s. withdrawn with 0 unit",
    ),
    "a naming beyond the units deployed without a name": (
        three_sent_one_unnamed_recalled,
        naming(*A_B_C[1:]),
        "1 deployed unit.s. without a name; 2 officer.s. cannot be named",
    ),
}


@pytest.mark.parametrize(("so_far", "send", "detail"), REFUSED.values(), ids=REFUSED.keys())
def test_each_refusal_answers_invalid_command_and_stores_nothing(
    service: Service,
    so_far: Callable[[Service], Incident],
    send: Callable[[Incident], Any],
    detail: str,
) -> None:
    incident = so_far(service)
    before = service.log_length()

    answer = send(incident)

    assert (answer.status_code, answer.json()["type"]) == (422, INVALID), answer.text
    assert re.search(detail, answer.json()["detail"]), answer.json()["detail"]
    assert service.log_length() == before


def test_qa_b_a_recall_naming_the_unit_and_the_officer_reads_the_same_everywhere(
    service: Service,
) -> None:
    incident = sent(service)
    incident.done(
        incident.kcsd, "/requests/1/recall", withdrawal(resources=ONE, officers=["D-101"])
    )
    close = bodies.stamped("2026-11-01T03:00:00Z", outcome="done", release_all=True)
    kpd = incident.kpd

    board = kpd.get("/v1/board", min_position=service.log_length()).json()
    read = kpd.get(incident.path).json()
    incident.done(kpd, "/close", close)
    full = kpd.get(incident.path + "/reports/full", min_position=service.log_length()).json()

    assert board["deployed_by_agency"] == {"KCSD": {"patrol_officer": 1}}
    assert read["requests"][0]["deployed"] == {"patrol_officer": 1}
    assert {o["badge"]: o["status"] for o in read["officers"]} == {
        "D-101": "recalled",
        "D-102": "deployed",
        "77": "in_charge",
    }
    assert [(w["kind"], w["resources"], w["badges"]) for w in full["withdrawals"]] == [
        ("recalled", ONE, ["D-101"]),
        ("released", ONE, ["D-102"]),
    ]
    assert full["responses"][0]["still_deployed"] == []
    assert {o["badge"]: o["status"] for o in full["officers"]} == {
        "D-101": "recalled",
        "D-102": "released",
        "77": "in_charge",
    }


def test_a_name_given_after_a_recall_fills_a_unit_still_deployed(service: Service) -> None:
    """The full report then counts the recalled unit as the one not named."""
    incident = three_sent_one_unnamed_recalled(service)
    named = naming(A_B_C[1])(incident)
    assert named.status_code == 200, named.text

    full = incident.kpd.get(incident.path + "/reports/full", min_position=named.json()["position"])

    [names] = full.json()["officer_names"]
    assert (names["officers_named"], names["units_not_named"]) == (2, 1)
    assert full.json()["responses"][0]["still_deployed"] == [
        {"resource": "patrol_officer", "quantity": 2}
    ]
