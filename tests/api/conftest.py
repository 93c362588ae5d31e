from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.keys import create_key
from app.main import create_app
from app.principals import Role
from app.services import Services
from app.settings import Settings
from tests.api import bodies


@dataclass
class Cad:
    """A caller of one agency (its CAD system unless made with another role), talking to the
    API with that agency's key."""

    client: TestClient
    agency: str
    key: str

    def post(self, path: str, body: Any, **headers: str) -> Any:
        return self.client.post(path, json=body, headers=self.headers(**headers))

    def get(self, path: str, **params: Any) -> Any:
        return self.client.get(path, params=params, headers=self.headers())

    def headers(self, **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}", **extra}

    def open(self, case_number: str = "K-2026-0001", asked: str = "KCSD", **kw: Any) -> str:
        answer = self.post("/v1/incidents", bodies.open_body(case_number, asked, **kw))
        assert answer.status_code == 201, answer.text
        return str(answer.json()["incident_id"])


@dataclass
class Service:
    client: TestClient
    services: Services

    def cad(self, agency: str, role: Role = Role.CAD) -> Cad:
        key = create_key(self.services.read_models, agency, "test", role=role)
        return Cad(self.client, agency, key)

    def auditor(self, agency: str) -> Cad:
        return self.cad(agency, Role.AUDITOR)

    def state_auditor(self) -> Cad:
        return self.cad("WI-DOJ", Role.STATE_AUDITOR)

    def log_length(self) -> int:
        return self.services.ledger.recorder.max_notification_id() or 0


@pytest.fixture
def service(settings: Settings) -> Iterator[Service]:
    app = create_app(settings)
    with TestClient(app) as client:
        yield Service(client, app.state.services)


@pytest.fixture
def sqlite_service(sqlite_settings: Settings) -> Iterator[Service]:
    app = create_app(sqlite_settings)
    with TestClient(app) as client:
        yield Service(client, app.state.services)


@pytest.fixture
def kenosha(sqlite_service: Service) -> Cad:
    return sqlite_service.cad("KPD")


@pytest.fixture
def sheriff(sqlite_service: Service) -> Cad:
    return sqlite_service.cad("KCSD")
