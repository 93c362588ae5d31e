"""The read behind the status board, on both stores."""

from tests.api import bodies
from tests.api.conftest import Service


def test_the_board_shows_open_incidents_deployments_obligations_and_aid_per_month(
    service: Service,
) -> None:
    kpd, kcsd = service.cad("KPD"), service.cad("KCSD")
    incident = kpd.open("K-1")
    at = f"/v1/incidents/{incident}"
    kpd.post(at + "/requests/1/approve", bodies.stamped())
    written = kcsd.post(at + "/requests/1/respond", bodies.respond_body()).json()

    board = kpd.get("/v1/board", min_position=written["position"]).json()
    sheriff = kcsd.get("/v1/board", min_position=written["position"]).json()

    [open_incident] = board["open_incidents"]
    assert open_incident["requests"] == [
        {
            "number": 1,
            "agency": "KCSD",
            "status": "partially_accepted",
            "deployed": {"patrol_officer": 2},
        }
    ]
    assert board["deployed_by_agency"] == {"KCSD": {"patrol_officer": 2}}
    assert [o["kind"] for o in board["open_obligations"]] == ["notify"]
    assert board["monthly"] == [{"month": "2026-11", "given": 0, "received": 1}]
    assert sheriff["monthly"] == [{"month": "2026-11", "given": 1, "received": 0}]
    assert sheriff["open_obligations"] == []
