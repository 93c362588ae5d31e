"""Issue 3, must show 1: each rule of the five department policies, allowed and refused.
A refused command answers a problem naming the rule and stores nothing."""

from datetime import UTC, datetime
from typing import Any

import pytest

from tests.api import bodies
from tests.api.conftest import Cad, Service

POLICY_VIOLATION = "urn:mutual-aid-ledger:problem:policy-violation"
LATER = "2026-11-01T04:00:00Z"
DECLINED: dict[str, Any] = {
    "decision": "declined",
    "resources": [],
    "officers": [],
    "officer_in_charge": None,
}


def person(rank: str, *roles: str, name: str = "Jo Smith", badge: str = "100") -> dict[str, Any]:
    return {"name": name, "rank": rank, "badge": badge, "roles": list(roles)}


def open_incident(cad: Cad, asked: str, actor: dict[str, Any], **fields: Any) -> Any:
    request = bodies.request_fields(asked, **fields.pop("request", {}))
    body = bodies.open_body(f"C-{asked}-{actor['rank']}", asked, actor=actor, request=request)
    return cad.post("/v1/incidents", {**body, **fields})


def opened(cad: Cad, asked: str, actor: dict[str, Any], **fields: Any) -> str:
    answer = open_incident(cad, asked, actor, **fields)
    assert answer.status_code == 201, answer.text
    return str(answer.json()["incident_id"])


def act(cad: Cad, incident: str, path: str, actor: dict[str, Any], **fields: Any) -> Any:
    return cad.post(f"/v1/incidents/{incident}{path}", bodies.stamped(actor=actor, **fields))


def respond(cad: Cad, incident: str, actor: dict[str, Any], **fields: Any) -> Any:
    body = {**bodies.respond_body(), "actor": actor, **fields}
    body["officers"] = [{**o, "badge": f"{cad.agency}-{o['badge']}"} for o in body["officers"]]
    return cad.post(f"/v1/incidents/{incident}/requests/1/respond", body)


def approved_incident(requester: Cad, asked: str, approver: dict[str, Any], **fields: Any) -> str:
    incident = opened(requester, asked, approver, **fields)
    assert act(requester, incident, "/requests/1/approve", approver).status_code == 200
    return incident


def assert_refused(answer: Any, service: Service, before: int, section: str) -> None:
    assert answer.status_code == 403, answer.text
    problem = answer.json()
    assert problem["type"] == POLICY_VIOLATION
    assert section in problem["rule"]["section"]
    assert section in problem["detail"]
    assert service.log_length() == before


def report(cad: Cad, incident: str, position: int) -> Any:
    return cad.get(f"/v1/incidents/{incident}/reports/summary", min_position=position).json()


# -- Minneapolis ---------------------------------------------------------------------------


def test_minneapolis_only_the_mayor_chief_bureau_heads_or_watch_commander_may_request(
    sqlite_service: Service,
) -> None:
    mpd = sqlite_service.cad("MPD-MN")
    before = sqlite_service.log_length()

    refused = open_incident(mpd, "HCSO", person("sergeant"))
    assert_refused(refused, sqlite_service, before, "Minneapolis: personnel authorized to request")
    assert open_incident(mpd, "HCSO", person("lieutenant", "watch_commander")).status_code == 201


def test_minneapolis_responds_only_through_authorized_officials(sqlite_service: Service) -> None:
    incident = approved_incident(sqlite_service.cad("HCSO"), "MPD-MN", person("sergeant"))
    mpd = sqlite_service.cad("MPD-MN")
    before = sqlite_service.log_length()

    refused = respond(mpd, incident, person("lieutenant"))
    assert_refused(
        refused, sqlite_service, before, "these same personnel are authorized to respond"
    )
    assert respond(mpd, incident, person("commander", "bureau_head")).status_code == 200


def test_minneapolis_officers_remain_under_their_own_officer_in_charge(
    sqlite_service: Service,
) -> None:
    incident = approved_incident(sqlite_service.cad("HCSO"), "MPD-MN", person("sergeant"))
    mpd = sqlite_service.cad("MPD-MN")
    before = sqlite_service.log_length()

    refused = respond(mpd, incident, person("chief"), officer_in_charge=None)
    assert_refused(refused, sqlite_service, before, "in charge of the Minneapolis detail")
    assert respond(mpd, incident, person("chief")).status_code == 200


def test_minneapolis_a_detail_answering_minneapolis_stays_under_its_own_officer_in_charge(
    sqlite_service: Service,
) -> None:
    watch = person("lieutenant", "watch_commander")
    incident = approved_incident(sqlite_service.cad("MPD-MN"), "HCSO", watch)
    hennepin = sqlite_service.cad("HCSO")
    before = sqlite_service.log_length()

    refused = respond(hennepin, incident, person("sergeant"), officer_in_charge=None)
    assert_refused(
        refused, sqlite_service, before, "a superior or senior officer from their agency"
    )
    assert respond(hennepin, incident, person("sergeant")).status_code == 200


def test_minneapolis_the_responding_official_may_recall_at_any_time(
    sqlite_service: Service,
) -> None:
    incident = approved_incident(sqlite_service.cad("HCSO"), "MPD-MN", person("sergeant"))
    mpd = sqlite_service.cad("MPD-MN")
    assert respond(mpd, incident, person("chief")).status_code == 200
    recall = {
        "resources": [{"resource": "patrol_officer", "quantity": 1}],
        "officers": ["MPD-MN-D-101"],
        "reason": "needed at home",
        "occurred_at": bodies.AFTER_RESPONSE,
    }
    before = sqlite_service.log_length()

    refused = act(mpd, incident, "/requests/1/recall", person("officer"), **recall)
    assert_refused(refused, sqlite_service, before, "may recall all or part")
    allowed = act(
        mpd, incident, "/requests/1/recall", person("captain", "watch_commander"), **recall
    )
    assert allowed.status_code == 200


# -- Alsip ---------------------------------------------------------------------------------


def test_alsip_205_3_the_patrol_sergeant_authorizes_the_response(sqlite_service: Service) -> None:
    incident = approved_incident(sqlite_service.cad("HCSO"), "ALSIP-PD", person("sergeant"))
    alsip = sqlite_service.cad("ALSIP-PD")
    before = sqlite_service.log_length()

    refused = respond(alsip, incident, person("officer"))
    assert_refused(refused, sqlite_service, before, "Alsip 205.3")
    assert respond(alsip, incident, person("sergeant", "patrol_sergeant")).status_code == 200


def test_alsip_205_3_an_officer_may_answer_an_emergency_and_then_owes_a_supervisor_notice(
    sqlite_service: Service,
) -> None:
    incident = approved_incident(sqlite_service.cad("HCSO"), "ALSIP-PD", person("sergeant"))
    alsip = sqlite_service.cad("ALSIP-PD")
    why = "Officer down call; no sergeant on duty reachable"

    answer = respond(alsip, incident, person("officer"), emergency_justification=why)

    assert answer.status_code == 200, answer.text
    summary = report(alsip, incident, answer.json()["position"])
    [decisions] = summary["policy_decisions"]
    assert decisions["exceptions"][0]["kind"] == "emergency"
    assert decisions["exceptions"][0]["justification"] == why
    [owed] = [
        o for o in summary["obligations"] if o["party"] == "ALSIP-PD" and o["kind"] == "notify"
    ]
    assert (owed["outstanding"], owed["status"]) == (["Supervisor"], "open")
    assert "as soon as practicable" in owed["rule"]["section"]


def test_alsip_205_3_an_mou_partner_needs_no_individual_approval(sqlite_service: Service) -> None:
    incident = approved_incident(sqlite_service.cad("WORTH-PD"), "ALSIP-PD", person("sergeant"))

    answer = respond(sqlite_service.cad("ALSIP-PD"), incident, person("officer"))

    assert answer.status_code == 200, answer.text
    [decisions] = report(sqlite_service.cad("WORTH-PD"), incident, answer.json()["position"])[
        "policy_decisions"
    ]
    assert decisions["exceptions"][0]["kind"] == "mou"
    assert "memorandum of understanding" in decisions["responded_under"]["section"]


def test_alsip_205_3_arrestee_transport_needs_a_supervisor_and_a_report(
    sqlite_service: Service,
) -> None:
    transport = {"request": {"arrestee_transport": True}}
    incident = approved_incident(
        sqlite_service.cad("WORTH-PD"), "ALSIP-PD", person("sergeant"), **transport
    )
    alsip = sqlite_service.cad("ALSIP-PD")
    before = sqlite_service.log_length()

    refused = respond(alsip, incident, person("officer"))
    assert_refused(refused, sqlite_service, before, "with supervisor approval")
    allowed = respond(alsip, incident, person("sergeant", "patrol_sergeant"))
    assert allowed.status_code == 200
    owed = report(alsip, incident, allowed.json()["position"])["obligations"]
    sections = [
        o["rule"]["section"] for o in owed if (o["kind"], o["party"]) == ("report", "ALSIP-PD")
    ]
    assert [s.split(":")[0] for s in sections] == ["Alsip 205.5", "Alsip 205.3"]


def test_alsip_205_3_an_officer_answers_a_request_for_transport_without_providing_it(
    sqlite_service: Service,
) -> None:
    """Arrestees may be held until the asking agency arranges transport: an officer's
    emergency response need not take on the transport, which needs a supervisor."""
    transport = {"request": {"arrestee_transport": True}}
    incident = approved_incident(
        sqlite_service.cad("HCSO"), "ALSIP-PD", person("lieutenant"), **transport
    )
    alsip = sqlite_service.cad("ALSIP-PD")
    why = "Officer down; no sergeant reachable"

    answer = respond(
        alsip, incident, person("officer"), emergency_justification=why, provides_transport=False
    )

    assert answer.status_code == 200, answer.text
    owed = report(alsip, incident, answer.json()["position"])["obligations"]
    sections = [o["rule"]["section"].split(":")[0] for o in owed if o["party"] == "ALSIP-PD"]
    assert sorted(sections) == ["Alsip 205.3", "Alsip 205.5"]  # the notice; no transport report
    [notice] = [o for o in owed if o["party"] == "ALSIP-PD" and o["kind"] == "notify"]
    assert "as soon as practicable" in notice["rule"]["section"]


def test_alsip_205_5_assistance_rendered_is_documented_and_a_refusal_is_not(
    sqlite_service: Service,
) -> None:
    cases: list[tuple[str, dict[str, Any], list[str]]] = [
        ("sergeant", DECLINED, []),
        ("lieutenant", {}, ["General case report"]),
    ]
    for requester, answer, owed_reports in cases:  # the rank tells the two incidents apart
        incident = approved_incident(sqlite_service.cad("HCSO"), "ALSIP-PD", person(requester))
        alsip = sqlite_service.cad("ALSIP-PD")
        sent = respond(alsip, incident, person("lieutenant"), **answer)
        owed = report(alsip, incident, sent.json()["position"])["obligations"]
        reports = [o for o in owed if o["kind"] == "report"]
        assert [o["recipients"][0].split(" (")[0] for o in reports] == owed_reports
        assert all("Alsip 205.5" in o["rule"]["section"] for o in reports)


def test_alsip_205_4_a_request_owes_a_notice_to_a_supervisor(sqlite_service: Service) -> None:
    alsip = sqlite_service.cad("ALSIP-PD")
    incident = opened(alsip, "WORTH-PD", person("officer"))

    summary = report(alsip, incident, sqlite_service.log_length())

    assert [o["recipients"] for o in summary["obligations"]] == [["Supervisor"]]
    assert "Alsip 205.4" in summary["obligations"][0]["rule"]["section"]


def test_alsip_has_no_emergency_exception_for_a_request_and_cites_its_policy_for_it(
    sqlite_service: Service,
) -> None:
    alsip = sqlite_service.cad("ALSIP-PD")
    before = sqlite_service.log_length()
    emergency = {"emergency_justification": "Shots fired"}

    refused = open_incident(alsip, "WORTH-PD", person("officer"), request=emergency)

    assert_refused(refused, sqlite_service, before, "Alsip Police Department Policy 205")
    assert "this policy has no emergency exception" in refused.json()["detail"]
    assert "205.2" not in refused.json()["detail"]


def test_alsip_205_4_an_officers_request_is_answered_without_an_approval(
    sqlite_service: Service,
) -> None:
    incident = opened(sqlite_service.cad("ALSIP-PD"), "WORTH-PD", person("officer"))

    answer = respond(sqlite_service.cad("WORTH-PD"), incident, person("officer"))

    assert answer.status_code == 200, answer.text


@pytest.mark.parametrize("jurisdiction", ["WORTH-PD", "OAK-LAWN-PD"])  # in the directory or not
def test_alsip_205_3_1_activity_outside_the_jurisdiction_owes_supervisor_and_dispatch_notice(
    sqlite_service: Service, jurisdiction: str
) -> None:
    alsip = sqlite_service.cad("ALSIP-PD")
    activity = {
        **bodies.stamped(actor=person("officer")),
        "case_number": "A-1",
        "nature": "Pursuit ended next door",
        "location": "111th St",
        "jurisdiction": jurisdiction,
    }

    answer = alsip.post("/v1/activities", activity)

    summary = report(alsip, answer.json()["incident_id"], answer.json()["position"])
    [owed] = summary["obligations"]
    assert owed["recipients"] == ["Supervisor or Patrol Sergeant", "Dispatch Center"]
    assert "Alsip 205.3.1" in owed["rule"]["section"]


# -- Columbia ------------------------------------------------------------------------------


def test_columbia_352_2_the_watch_commander_or_a_supervisor_approves_the_response(
    sqlite_service: Service,
) -> None:
    incident = approved_incident(sqlite_service.cad("BCSD"), "CPD-MO", person("sergeant"))
    columbia = sqlite_service.cad("CPD-MO")
    before = sqlite_service.log_length()

    refused = respond(columbia, incident, person("corporal"))
    assert_refused(refused, sqlite_service, before, "Columbia 352.2")
    assert respond(columbia, incident, person("officer", "watch_commander")).status_code == 200


def test_columbia_352_2_an_officer_asked_in_the_field_responds_and_notifies_a_supervisor(
    sqlite_service: Service,
) -> None:
    incident = approved_incident(sqlite_service.cad("BCSD"), "CPD-MO", person("sergeant"))
    columbia = sqlite_service.cad("CPD-MO")
    why = "The deputy is struggling with a suspect resisting arrest on Providence Rd"
    before = sqlite_service.log_length()

    refused = respond(columbia, incident, person("officer"))
    assert_refused(refused, sqlite_service, before, "Columbia 352.2")
    answer = respond(columbia, incident, person("officer"), emergency_justification=why)

    assert answer.status_code == 200, answer.text
    summary = report(columbia, incident, answer.json()["position"])
    owed = [o for o in summary["obligations"] if o["party"] == "CPD-MO"]
    assert [(o["kind"], o["outstanding"], o["request_number"]) for o in owed] == [
        ("notify", ["Supervisor"], 1),
        ("report", ["Records (case number)"], 1),
    ]
    assert "receives a request in the field" in owed[0]["rule"]["section"]
    assert "when such assistance is rendered" in owed[1]["rule"]["section"]


def test_columbia_352_4_a_critical_incident_says_assistance_only_or_scene_management(
    sqlite_service: Service,
) -> None:
    columbia = sqlite_service.cad("CPD-MO")
    before = sqlite_service.log_length()

    refused = open_incident(columbia, "BCSD", person("sergeant"), kind="critical_incident")
    assert_refused(refused, sqlite_service, before, "Columbia 352.4")
    allowed = open_incident(
        columbia,
        "BCSD",
        person("sergeant"),
        kind="critical_incident",
        scene_management="complete_scene_management",
    )
    assert allowed.status_code == 201


def test_columbia_352_2_transport_for_another_agency_is_reported(sqlite_service: Service) -> None:
    transport = {"request": {"arrestee_transport": True}}
    incident = approved_incident(
        sqlite_service.cad("BCSD"), "CPD-MO", person("sergeant"), **transport
    )

    answer = respond(sqlite_service.cad("CPD-MO"), incident, person("sergeant"))

    owed = report(sqlite_service.cad("BCSD"), incident, answer.json()["position"])["obligations"]
    assert [o["kind"] for o in owed] == ["report"]
    assert "case number" in owed[0]["rule"]["section"]


# -- Oconomowoc ----------------------------------------------------------------------------


def test_oconomowoc_iii_a_1_only_the_shift_supervisor_oic_or_communications_may_request(
    sqlite_service: Service,
) -> None:
    oconomowoc = sqlite_service.cad("OPD-WI")
    before = sqlite_service.log_length()

    for rank in ("officer", "sergeant"):  # a rank alone does not make a shift supervisor
        refused = open_incident(oconomowoc, "WCSD", person(rank))
        assert_refused(refused, sqlite_service, before, "Oconomowoc III.A.1")
    allowed = open_incident(oconomowoc, "WCSD", person("dispatcher", "communications_center"))
    assert allowed.status_code == 201


def test_oconomowoc_iii_b_a_federal_request_owes_a_notice_to_the_chief(
    sqlite_service: Service,
) -> None:
    oconomowoc = sqlite_service.cad("OPD-WI")
    incident = opened(oconomowoc, "FBI-MW", person("sergeant", "oic"), kind="federal")

    owed = report(oconomowoc, incident, sqlite_service.log_length())["obligations"]

    assert [o["recipients"] for o in owed] == [["Supervisor/OIC"], ["Chief of Police"]]
    assert "Oconomowoc III.B.2-3" in owed[1]["rule"]["section"]


def test_oconomowoc_iii_b_2_the_investigating_officer_asks_a_federal_agency(
    sqlite_service: Service,
) -> None:
    oconomowoc = sqlite_service.cad("OPD-WI")
    detective = person("detective", name="Det. Kay Ruiz")
    before = sqlite_service.log_length()

    refused = open_incident(oconomowoc, "FBI-MW", detective, kind="emergency")
    assert_refused(refused, sqlite_service, before, "Oconomowoc III.A.1")
    incident = opened(oconomowoc, "FBI-MW", detective, kind="investigative")

    summary = report(oconomowoc, incident, sqlite_service.log_length())
    [decisions] = summary["policy_decisions"]
    assert "Oconomowoc III.B.2" in decisions["requested_under"]["section"]
    assert ["Chief of Police"] in [o["recipients"] for o in summary["obligations"]]


def test_oconomowoc_iii_b_4_a_request_from_federal_authorities_is_told_to_the_chief(
    sqlite_service: Service,
) -> None:
    fbi = sqlite_service.cad("FBI-MW")
    incident = opened(fbi, "OPD-WI", person("special_agent"), kind="federal")

    owed = report(fbi, incident, sqlite_service.log_length())["obligations"]

    assert [(o["party"], o["recipients"]) for o in owed] == [("OPD-WI", ["Chief of Police"])]


def test_oconomowoc_v_b_assistance_cannot_be_offered_without_a_request(
    sqlite_service: Service,
) -> None:
    incident = approved_incident(sqlite_service.cad("WCSD"), "OPD-WI", person("sergeant"))
    oconomowoc = sqlite_service.cad("OPD-WI")
    before = sqlite_service.log_length()

    answer = oconomowoc.post(
        f"/v1/incidents/{incident}/requests/2/respond",
        {**bodies.respond_body(), "actor": person("sergeant", "oic")},
    )

    assert answer.status_code == 404
    assert "Oconomowoc V.B" in answer.json()["detail"]
    assert sqlite_service.log_length() == before


# -- Kenosha -------------------------------------------------------------------------------


def test_kenosha_iv_a_a_request_is_approved_by_a_sergeant_or_higher(
    sqlite_service: Service,
) -> None:
    kenosha = sqlite_service.cad("KPD")
    incident = opened(kenosha, "KCSD", person("officer"))
    before = sqlite_service.log_length()

    refused = act(kenosha, incident, "/requests/1/approve", person("officer"))
    assert_refused(refused, sqlite_service, before, "Kenosha 2.1 IV.A")
    assert act(kenosha, incident, "/requests/1/approve", person("sergeant")).status_code == 200


def test_kenosha_iv_a_no_assistance_before_approval(sqlite_service: Service) -> None:
    incident = opened(sqlite_service.cad("KPD"), "KCSD", person("officer"))
    before = sqlite_service.log_length()

    refused = respond(sqlite_service.cad("KCSD"), incident, person("lieutenant"))

    assert_refused(refused, sqlite_service, before, "Kenosha 2.1 IV.A")


def test_kenosha_iv_a_the_agency_asked_may_decline_before_the_approval(
    sqlite_service: Service,
) -> None:
    kenosha = sqlite_service.cad("KPD")
    incident = opened(kenosha, "KCSD", person("officer"))

    answer = respond(sqlite_service.cad("KCSD"), incident, person("lieutenant"), **DECLINED)

    assert answer.status_code == 200, answer.text
    summary = report(kenosha, incident, answer.json()["position"])
    assert [r["status"] for r in summary["responses"]] == ["declined"]


def test_kenosha_iv_a_an_approval_dated_after_the_assistance_does_not_cover_it(
    sqlite_service: Service,
) -> None:
    kenosha, sheriff = sqlite_service.cad("KPD"), sqlite_service.cad("KCSD")
    incident = opened(kenosha, "KCSD", person("officer"))
    late = act(kenosha, incident, "/requests/1/approve", person("sergeant"), occurred_at=LATER)
    assert late.status_code == 200, late.text
    before = sqlite_service.log_length()

    refused = respond(sheriff, incident, person("lieutenant"))  # at 02:05

    assert_refused(refused, sqlite_service, before, "prior to the rendering")
    assert refused.headers["content-type"] == "application/problem+json"
    assert (
        "approved at 2026-11-01T04:00:00+00:00, after this assistance" in refused.json()["detail"]
    )
    assert respond(sheriff, incident, person("lieutenant"), occurred_at=LATER).status_code == 200


def test_kenosha_iv_a_a_request_a_supervisor_makes_is_approved_as_it_is_made(
    sqlite_service: Service,
) -> None:
    kenosha = sqlite_service.cad("KPD")
    incident = opened(kenosha, "KCSD", person("sergeant"))

    answer = respond(sqlite_service.cad("KCSD"), incident, person("lieutenant"))

    assert answer.status_code == 200, answer.text
    [decisions] = report(kenosha, incident, answer.json()["position"])["policy_decisions"]
    assert decisions["requested_under"]["section"].endswith("so approved as it is made")
    assert decisions["approved_under"] is None


def test_kenosha_iv_a_an_emergency_request_is_answered_first_and_approved_afterwards(
    sqlite_service: Service,
) -> None:
    kenosha = sqlite_service.cad("KPD")
    why = "Shots fired at officers; waiting for a sergeant risks lives"
    incident = opened(kenosha, "KCSD", person("officer"), request={"emergency_justification": why})
    assert respond(sqlite_service.cad("KCSD"), incident, person("lieutenant")).status_code == 200
    before_approval = report(kenosha, incident, sqlite_service.log_length())

    approved = act(kenosha, incident, "/requests/1/approve", person("sergeant"))

    after = report(kenosha, incident, approved.json()["position"])
    [exception] = before_approval["policy_decisions"][0]["exceptions"]
    assert (exception["kind"], exception["justification"]) == ("emergency", why)
    approval = [o for o in before_approval["obligations"] if o["kind"] == "approve"]
    assert [o["status"] for o in approval] == ["open"]
    assert [o["status"] for o in after["obligations"] if o["kind"] == "approve"] == ["met"]


def test_kenosha_iv_a_a_sergeants_emergency_request_owes_no_approval_afterwards(
    sqlite_service: Service,
) -> None:
    kenosha = sqlite_service.cad("KPD")
    why = "Shots fired at officers"
    incident = opened(kenosha, "KCSD", person("sergeant"), request={"emergency_justification": why})

    summary = report(kenosha, incident, sqlite_service.log_length())

    assert [o["kind"] for o in summary["obligations"]] == ["notify"]
    [decisions] = summary["policy_decisions"]
    assert decisions["requested_under"]["section"].endswith("so approved as it is made")
    assert decisions["exceptions"] == []


def test_kenosha_iii_a_1_routine_services_are_not_mutual_aid(sqlite_service: Service) -> None:
    kenosha = sqlite_service.cad("KPD")
    before = sqlite_service.log_length()

    refused = open_incident(kenosha, "KCSD", person("sergeant"), kind="death_notification")

    assert_refused(refused, sqlite_service, before, "Kenosha 2.1 III.A.1")


def test_kenosha_iv_b_the_command_staff_must_be_told_of_every_request(
    sqlite_service: Service,
) -> None:
    kenosha = sqlite_service.cad("KPD")
    incident = opened(kenosha, "KCSD", person("sergeant"))
    listing = kenosha.get(
        "/v1/incidents", open_obligations=True, min_position=sqlite_service.log_length()
    )

    told = act(kenosha, incident, "/obligations/1/fulfil", person("sergeant"), note="e-mailed")

    assert [i["open_obligations"] for i in listing.json()["items"]] == [1]
    after = kenosha.get(
        "/v1/incidents", open_obligations=True, min_position=told.json()["position"]
    )
    assert after.json()["items"] == []


def test_kenosha_iv_d_the_sheriff_is_asked_first_and_pleasant_prairie_next(
    sqlite_service: Service,
) -> None:
    kenosha = sqlite_service.cad("KPD")
    first = [s["agency"] for s in kenosha.get("/v1/routing/suggestions").json()]
    contiguous = kenosha.get("/v1/routing/suggestions", contiguous_to="PPPD").json()
    incident = approved_incident(kenosha, "KCSD", person("sergeant"))
    assert (
        respond(sqlite_service.cad("KCSD"), incident, person("sergeant"), **DECLINED).status_code
        == 200
    )

    after = kenosha.get("/v1/routing/suggestions", incident_id=incident).json()

    assert first == ["KCSD"]
    assert [s["agency"] for s in contiguous] == ["KCSD", "PPPD"]
    assert [s["agency"] for s in after] == ["PPPD"]
    assert "Kenosha 2.1 IV.D" in after[0]["rule"]["section"]


def test_an_obligation_left_open_past_its_due_time_is_listed_as_overdue(
    sqlite_service: Service,
) -> None:
    kenosha = sqlite_service.cad("KPD")
    opened(kenosha, "KCSD", person("sergeant"))  # owed since 2026-11-01, long overdue
    fresh = {"occurred_at": datetime.now(UTC).isoformat(), "case_number": "K-NOW"}
    recent = kenosha.post("/v1/incidents", {**bodies.open_body(), **fresh})
    position = recent.json()["position"]

    overdue = kenosha.get("/v1/incidents", overdue_obligations=True, min_position=position)

    assert [i["case_number"] for i in overdue.json()["items"]] == ["C-KCSD-sergeant"]


# -- Version 2 of the Alsip, Columbia, Oconomowoc and Kenosha profiles, from 2026-12-06 -------

V2_OPEN, V2_RESPOND = "2026-12-06T00:30:00Z", "2026-12-06T00:35:00Z"


def test_columbia_352_2_an_officer_in_the_field_answers_a_request_for_arrestee_transport(
    sqlite_service: Service,
) -> None:
    transport = {"arrestee_transport": True}
    incident = opened(
        sqlite_service.cad("BCSD"),
        "CPD-MO",
        person("sergeant"),
        request=transport,
        occurred_at=V2_OPEN,
    )
    why = "The deputy is struggling with a suspect resisting arrest on Providence Rd"

    answer = respond(
        sqlite_service.cad("CPD-MO"),
        incident,
        person("officer"),
        emergency_justification=why,
        occurred_at=V2_RESPOND,
    )

    assert answer.status_code == 200, answer.text
    [decisions] = report(sqlite_service.cad("CPD-MO"), incident, answer.json()["position"])[
        "policy_decisions"
    ]
    assert decisions["responded_under"]["version"] == 2


def test_alsip_205_5_a_request_for_outside_assistance_owes_a_general_case_report(
    sqlite_service: Service,
) -> None:
    alsip = sqlite_service.cad("ALSIP-PD")
    incident = opened(alsip, "WORTH-PD", person("officer"), occurred_at=V2_OPEN)

    owed = report(alsip, incident, sqlite_service.log_length())["obligations"]

    assert [(o["kind"], o["rule"]["section"].split(":")[0]) for o in owed] == [
        ("notify", "Alsip 205.4"),
        ("report", "Alsip 205.5"),
    ]


def test_alsip_205_5_initiated_activity_owes_a_general_case_report(
    sqlite_service: Service,
) -> None:
    alsip = sqlite_service.cad("ALSIP-PD")
    activity = {
        **bodies.stamped(occurred_at=V2_OPEN, actor=person("officer")),
        "case_number": "A-2",
        "nature": "Pursuit ended next door",
        "location": "111th St",
        "jurisdiction": "WORTH-PD",
    }

    answer = alsip.post("/v1/activities", activity)

    owed = report(alsip, answer.json()["incident_id"], answer.json()["position"])["obligations"]
    assert [(o["kind"], o["rule"]["section"].split(":")[0]) for o in owed] == [
        ("notify", "Alsip 205.3.1"),
        ("report", "Alsip 205.5"),
    ]


def test_oconomowoc_v_c_waukesha_county_communications_may_answer_a_request(
    sqlite_service: Service,
) -> None:
    incident = opened(sqlite_service.cad("WCSD"), "OPD-WI", person("sergeant"), occurred_at=V2_OPEN)
    dispatcher = person("dispatcher", "communications_center")

    answer = respond(sqlite_service.cad("OPD-WI"), incident, dispatcher, occurred_at=V2_RESPOND)

    assert answer.status_code == 200, answer.text
    [decisions] = report(sqlite_service.cad("WCSD"), incident, answer.json()["position"])[
        "policy_decisions"
    ]
    assert "shall aid WCC in determining" in decisions["responded_under"]["section"]


def test_kenosha_iv_b_the_patrol_shift_commander_is_not_told_of_their_own_request(
    sqlite_service: Service,
) -> None:
    kenosha = sqlite_service.cad("KPD")
    commander = person("lieutenant", "patrol_shift_commander")
    incident = opened(kenosha, "KCSD", commander, occurred_at=V2_OPEN)

    [owed] = report(kenosha, incident, sqlite_service.log_length())["obligations"]

    assert owed["recipients"] == [
        "Chief of Police",
        "Deputy Assistant Chief",
        "Inspector of Police",
    ]
    assert "(if the Patrol Shift Commander is not the person" in owed["rule"]["section"]
