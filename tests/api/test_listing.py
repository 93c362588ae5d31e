"""The incident list: its filters and its pages, for an agency (through its parties rows) and
for a state auditor (through the incidents), on both stores."""

from typing import Any

import pytest

from tests.api import bodies
from tests.api.conftest import Cad, Service


class Listed:
    """KPD asked the Sheriff at 02:00 (A), at 02:10 for an investigation (B) and Pleasant
    Prairie at 02:20 (C, closed since); the Sheriff asked KPD at 02:30 (D)."""

    def __init__(self, service: Service) -> None:
        self.service = service
        kpd, kcsd = service.cad("KPD"), service.cad("KCSD")
        self.a = opened(kpd, "K-A", "KCSD", "02:00")
        self.b = opened(kpd, "K-B", "KCSD", "02:10", kind="investigative")
        self.c = opened(kpd, "K-C", "PPPD", "02:20")
        closed = kpd.post(
            f"/v1/incidents/{self.c}/close",
            bodies.stamped("2026-11-01T02:25:00Z", outcome="Not needed after all"),
        )
        assert closed.status_code == 200, closed.text
        self.d = opened(kcsd, "K-D", "KPD", "02:30")
        self.names = {self.a: "A", self.b: "B", self.c: "C", self.d: "D"}

    def pages(self, reader: Cad, **params: Any) -> list[list[str]]:
        """Every page, in order, as the letters of the incidents on it (at most ten)."""
        pages: list[list[str]] = []
        cursor = None
        while len(pages) < 10:
            more: dict[str, str] = {"cursor": cursor} if cursor else {}
            answer = reader.get(
                "/v1/incidents", min_position=self.service.log_length(), **params, **more
            )
            assert answer.status_code == 200, answer.text
            pages.append([self.names[i["incident_id"]] for i in answer.json()["items"]])
            if (cursor := answer.json()["next_cursor"]) is None:
                break
        return pages


def opened(cad: Cad, case: str, asked: str, at: str, **fields: Any) -> str:
    occurred_at = f"2026-11-01T{at}:00Z"
    body = bodies.open_body(case, asked, occurred_at=occurred_at, **fields)
    body["request"]["needed_at"] = occurred_at
    answer = cad.post("/v1/incidents", body)
    assert answer.status_code == 201, answer.text
    return str(answer.json()["incident_id"])


@pytest.fixture
def listed(service: Service) -> Listed:
    return Listed(service)


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, ["D", "C", "B", "A"]),
        ({"status": "open"}, ["D", "B", "A"]),
        ({"status": "closed"}, ["C"]),
        ({"role": "requester"}, ["C", "B", "A"]),
        ({"role": "responder"}, ["D"]),
        ({"kind": "investigative"}, ["B"]),
        ({"opened_from": "2026-11-01T02:10:00Z", "opened_to": "2026-11-01T02:30:00Z"}, ["C", "B"]),
        ({"status": "open", "role": "requester", "kind": "emergency"}, ["A"]),
    ],
)
def test_an_agencys_list_keeps_what_each_filter_asks_for(
    listed: Listed, params: dict[str, str], expected: list[str]
) -> None:
    assert listed.pages(listed.service.cad("KPD"), **params) == [expected]


def test_an_agency_pages_through_its_incidents_newest_first(listed: Listed) -> None:
    kpd = listed.service.cad("KPD")

    assert listed.pages(kpd, limit=3) == [["D", "C", "B"], ["A"]]
    assert listed.pages(kpd, limit=1, status="open") == [["D"], ["B"], ["A"]]


def test_a_state_auditor_pages_through_every_agencys_incidents(listed: Listed) -> None:
    auditor = listed.service.state_auditor()

    assert listed.pages(auditor, limit=3) == [["D", "C", "B"], ["A"]]
    assert listed.pages(auditor, status="closed") == [["C"]]
    assert listed.pages(auditor, opened_from="2026-11-01T02:20:00Z") == [["D", "C"]]


@pytest.mark.parametrize("auditor", [False, True], ids=["agency", "state auditor"])
def test_incidents_opened_at_the_same_moment_are_each_on_one_page(
    listed: Listed, auditor: bool
) -> None:
    kpd = listed.service.cad("KPD")
    listed.names[opened(kpd, "K-E", "KCSD", "02:10")] = "E"  # opened when B was
    reader = listed.service.state_auditor() if auditor else kpd

    one_by_one = [page[0] for page in listed.pages(reader, limit=1)]

    assert sorted(one_by_one) == ["A", "B", "C", "D", "E"]
    assert one_by_one == listed.pages(reader)[0]


@pytest.mark.parametrize("auditor", [False, True], ids=["agency", "state auditor"])
def test_the_obligation_filters_page_through_what_is_owed_and_what_is_not(
    listed: Listed, auditor: bool
) -> None:
    reader = listed.service.state_auditor() if auditor else listed.service.cad("KPD")
    everything = reader.get("/v1/incidents", min_position=listed.service.log_length()).json()
    items = [(listed.names[i["incident_id"]], i["open_obligations"]) for i in everything["items"]]
    owing = [name for name, still_open in items if still_open]
    settled = [name for name, still_open in items if not still_open]
    # Both filters must have something to keep and something to drop.
    assert owing
    assert settled

    def one_by_one(**params: Any) -> list[str]:
        return [page[0] for page in listed.pages(reader, limit=1, **params) if page]

    assert one_by_one(open_obligations=True) == owing
    assert one_by_one(open_obligations=False) == settled
    # Every obligation was created on 1 November: all those still open are overdue.
    assert one_by_one(overdue_obligations=True) == owing


def test_an_agency_asked_is_listed_with_its_own_obligations_only(service: Service) -> None:
    """As the incident read narrows them (a review found the list counting, and filtering by,
    the obligations on another agency's request): KPD asked the Sheriff, then Pleasant
    Prairie, and settles what concerns Pleasant Prairie."""
    kpd, kcsd, pppd = service.cad("KPD"), service.cad("KCSD"), service.cad("PPPD")
    incident = opened(kpd, "K-O", "KCSD", "02:00")
    asked = kpd.post(
        f"/v1/incidents/{incident}/requests",
        {**bodies.stamped("2026-11-01T02:05:00Z"), **bodies.request_fields("PPPD")},
    )
    assert asked.status_code == 201, asked.text
    sheriff_owed = listed_as_read(service, incident, kcsd)
    assert sheriff_owed > 0
    assert listed_as_read(service, incident, pppd) > 0

    for obligation in own_obligations(service, incident, pppd):
        settled = kpd.post(
            f"/v1/incidents/{incident}/obligations/{obligation['number']}/fulfil",
            bodies.stamped("2026-11-01T02:10:00Z"),
        )
        assert settled.status_code == 200, settled.text

    assert listed_as_read(service, incident, pppd) == 0
    assert listed_as_read(service, incident, kcsd) == sheriff_owed
    assert listed_as_read(service, incident, kpd) >= sheriff_owed


def own_obligations(service: Service, incident: str, reader: Cad) -> list[Any]:
    read = reader.get(f"/v1/incidents/{incident}", min_position=service.log_length()).json()
    return [o for o in read["obligations"] if o["status"] == "open"]


def listed_as_read(service: Service, incident: str, reader: Cad) -> int:
    """The reader's open obligations on the incident, the same in its read, in its list and
    in each obligation filter of the list; returned."""
    owed = len(own_obligations(service, incident, reader))

    def listed(**params: Any) -> list[Any]:
        found = reader.get("/v1/incidents", min_position=service.log_length(), **params)
        return [i for i in found.json()["items"] if i["incident_id"] == incident]

    [item] = listed()
    assert item["open_obligations"] == owed
    assert len(listed(open_obligations=True)) == (owed > 0)
    assert len(listed(open_obligations=False)) == (owed == 0)
    assert len(listed(overdue_obligations=True)) == (owed > 0)
    return owed
