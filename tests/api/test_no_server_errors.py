"""Whatever JSON a CAD sends to any write endpoint, the answer is never a 5xx, and a refused
command stores nothing."""

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api import examples
from domain.incident import Incident
from tests.api.conftest import Service

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
JSON = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)
PATHS = [
    ("/v1/incidents", examples.OPEN),
    ("/v1/incidents/{id}/requests", examples.ADD_REQUEST),
    ("/v1/incidents/{id}/requests/1/approve", examples.APPROVE),
    ("/v1/incidents/{id}/requests/1/respond", examples.RESPOND),
    ("/v1/incidents/{id}/requests/1/officers", examples.NAME_OFFICERS),
    ("/v1/incidents/{id}/requests/1/arrive", examples.ARRIVAL),
    ("/v1/incidents/{id}/requests/1/recall", examples.RECALL),
    ("/v1/incidents/{id}/requests/1/release", examples.RELEASE),
    ("/v1/incidents/{id}/requests/1/cancel", examples.CANCEL),
    ("/v1/incidents/{id}/requests/1/officers/D-101/involvement", examples.INVOLVEMENT),
    ("/v1/incidents/{id}/obligations/1/fulfil", examples.FULFIL),
    ("/v1/incidents/{id}/corrections", examples.CORRECTION),
    ("/v1/incidents/{id}/close", examples.CLOSE),
]


def mutated(example: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Bodies near a valid one (each field replaced by anything) and bodies of pure noise."""
    replace_one = st.sampled_from(sorted(example)).flatmap(
        lambda key: JSON.map(lambda value: {**example, key: value})
    )
    return replace_one | JSON


@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_no_body_on_any_write_endpoint_causes_a_server_error(
    sqlite_service: Service, data: st.DataObject
) -> None:
    kpd = sqlite_service.cad("KPD")
    kpd.post("/v1/incidents", {**examples.OPEN, "case_number": "FUZZ"})
    incident_id = Incident.create_id("KPD", "FUZZ")
    for path, example in PATHS:
        before = sqlite_service.log_length()
        body = data.draw(mutated(example))
        answer = kpd.post(path.format(id=incident_id), body)
        assert answer.status_code < 500, (path, body, answer.text)
        if answer.status_code >= 400:
            assert sqlite_service.log_length() == before
