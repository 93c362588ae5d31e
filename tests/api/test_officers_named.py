"""Kenosha 2.1 IV.C.1 through HTTP: the agency asked names the officers its response did not
name; the full report then lists them and counts fewer units without a name, and their
involvement may be recorded (IV.C.2). Each refusal answers its problem and stores nothing."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from tests.api import bodies
from tests.api.conftest import Cad, Service
from tests.api.test_report_contents import FOUR, kpd_asks_kcsd_then_pppd

P = "urn:mutual-aid-ledger:problem:"
ORTIZ = bodies.actor("Lt. Ben Ortiz", "lieutenant", "77")
IN_CHARGE = {"name": "Lt. Ben Ortiz", "badge": "77"}
KIM = {"name": "Deputy Sue Kim", "badge": "D-201", "rank": "deputy"}
COLE = {"name": "Deputy Al Cole", "badge": "D-202"}


def naming(*officers: dict[str, str], at: str = bodies.AFTER_RESPONSE) -> dict[str, Any]:
    return {**bodies.stamped(at, actor=ORTIZ), "officers": list(officers)}


@dataclass
class World:
    """KCSD committed four officers without naming them (request 1), under Lt. Ortiz; PPPD
    was asked later (request 2)."""

    kpd: Cad
    kcsd: Cad
    pppd: Cad
    incident: str

    def at(self, path: str) -> str:
        return f"/v1/incidents/{self.incident}{path}"


@pytest.fixture
def world(service: Service) -> World:
    kpd, kcsd, pppd = service.cad("KPD"), service.cad("KCSD"), service.cad("PPPD")
    incident, _ = kpd_asks_kcsd_then_pppd(kpd, kcsd)
    return World(kpd, kcsd, pppd, incident)


def test_kenosha_iv_c_1_officers_named_after_the_response_are_in_the_full_report(
    service: Service, world: World
) -> None:
    named = world.kcsd.post(world.at("/requests/1/officers"), naming(KIM, COLE))
    note = bodies.stamped("2026-11-01T03:00:00Z", actor=ORTIZ, involvement="Held the north line")
    noted = world.kcsd.post(world.at("/requests/1/officers/D-201/involvement"), note)
    assert (named.status_code, noted.status_code) == (200, 200), named.text + noted.text

    full = world.kpd.get(world.at("/reports/full"), min_position=noted.json()["position"]).json()
    history = service.auditor("KCSD").get(world.at("/history")).json()["events"]

    officers = {o["badge"]: o for o in full["officers"]}
    assert sorted(officers) == ["77", "D-201", "D-202"]
    kim = officers["D-201"]
    assert (kim["name"], kim["rank"], kim["department"], kim["status"]) == (
        "Deputy Sue Kim",
        "deputy",
        "KCSD",
        "deployed",
    )
    assert [n["involvement"] for n in kim["involvement"]] == ["Held the north line"]
    assert full["officer_names"] == [
        {
            "request_number": 1,
            "agency": "KCSD",
            "committed": FOUR,
            "officers_named": 2,
            "units_not_named": 2,
        }
    ]
    assert history[-2]["line"] == (
        "Lt. Ben Ortiz #77 (lieutenant, KCSD) named Deputy Sue Kim #D-201, Deputy Al Cole "
        "#D-202 as sent under request 1"
    )


def test_a_retry_with_the_same_idempotency_key_names_the_officer_once(
    service: Service, world: World
) -> None:
    path, key = world.at("/requests/1/officers"), {"Idempotency-Key": "name-kim"}
    first = world.kcsd.post(path, naming(KIM), **key)
    logged = service.log_length()

    again = world.kcsd.post(path, naming(KIM), **key)

    assert (first.status_code, again.status_code) == (200, 200), again.text
    assert again.json() == first.json()
    assert service.log_length() == logged
    full = world.kpd.get(world.at("/reports/full"), min_position=logged).json()
    assert [o["badge"] for o in full["officers"]] == ["77", "D-201"]
    assert full["officer_names"][0]["units_not_named"] == 3


Send = Callable[[World], Any]


def by_kcsd(*officers: dict[str, str], at: str = bodies.AFTER_RESPONSE) -> Send:
    return lambda w: w.kcsd.post(w.at("/requests/1/officers"), naming(*officers, at=at))


def pppd_declines(w: World) -> Any:
    return w.pppd.post(
        w.at("/requests/2/respond"),
        bodies.respond_body(
            actor=bodies.actor("Sgt. Ivy Holt", "sergeant", "31"),
            occurred_at="2026-11-01T05:05:00Z",
            decision="declined",
            resources=[],
            officers=[],
            officer_in_charge=None,
        ),
    )


def kcsd_recalls_everything(w: World) -> Any:
    recall = {**bodies.stamped("2026-11-01T02:40:00Z", actor=ORTIZ), "everything": True}
    return w.kcsd.post(w.at("/requests/1/recall"), recall)


def kpd_closes(w: World) -> Any:
    close = bodies.stamped("2026-11-01T05:30:00Z", outcome="done", release_all=True)
    return w.kpd.post(w.at("/close"), close)


REYES = {"name": "Officer Tom Reyes", "badge": "P-7"}
THREE = [{"name": f"Deputy {n}", "badge": f"D-{n}"} for n in range(3)]
# (a step that succeeds first, if any; the naming refused; its status and problem type)
REFUSED: dict[str, tuple[Send | None, Send, int, str]] = {
    "by the requesting agency": (
        None,
        lambda w: w.kpd.post(w.at("/requests/1/officers"), naming(KIM)),
        403,
        "not-authorized",
    ),
    "by another agency asked": (
        None,
        lambda w: w.pppd.post(w.at("/requests/1/officers"), naming(KIM)),
        404,
        "request-not-found",
    ),
    "dated before the response": (
        None,
        by_kcsd(KIM, at="2026-11-01T02:04:59Z"),
        422,
        "invalid-command",
    ),
    "a badge named already": (by_kcsd(KIM), by_kcsd(KIM), 409, "rule-violation"),
    "the officer in charge": (None, by_kcsd(IN_CHARGE), 409, "rule-violation"),
    "more than the units without a name": (
        by_kcsd(KIM),
        by_kcsd(*THREE, COLE),
        422,
        "invalid-command",
    ),
    "under a decline": (
        pppd_declines,
        lambda w: w.pppd.post(
            w.at("/requests/2/officers"), naming(REYES, at="2026-11-01T05:10:00Z")
        ),
        409,
        "rule-violation",
    ),
    "after everything was recalled": (
        kcsd_recalls_everything,
        by_kcsd(KIM, at="2026-11-01T02:41:00Z"),
        409,
        "rule-violation",
    ),
    "after close": (kpd_closes, by_kcsd(KIM, at="2026-11-01T05:31:00Z"), 409, "incident-closed"),
}


@pytest.mark.parametrize(("first", "send", "status", "slug"), REFUSED.values(), ids=REFUSED.keys())
def test_each_refused_naming_answers_its_problem_and_stores_nothing(
    service: Service, world: World, first: Send | None, send: Send, status: int, slug: str
) -> None:
    if first:
        done = first(world)
        assert done.status_code == 200, done.text
    before = service.log_length()

    answer = send(world)

    assert (answer.status_code, answer.json()["type"]) == (status, P + slug), answer.text
    assert service.log_length() == before
