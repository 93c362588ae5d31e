"""Issue 6 (part): security headers on every answer, CORS only for configured origins, and no
start in production with a default secret."""

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr, ValidationError

from app.main import create_app
from app.settings import Settings
from tests.api.conftest import Service

KEY = SecretStr("11" * 32)


def test_every_answer_carries_the_security_headers(sqlite_service: Service) -> None:
    for answer in (
        sqlite_service.client.get("/healthz"),
        sqlite_service.client.get("/v1/incidents"),
    ):
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["x-frame-options"] == "DENY"
        assert answer.headers["cache-control"] == "no-store"
        assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]


def test_cors_answers_only_configured_origins(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, cors_origins=["https://cad.example.gov"])
    with TestClient(create_app(settings)) as client:
        allowed = client.options(
            "/v1/incidents",
            headers={"Origin": "https://cad.example.gov", "Access-Control-Request-Method": "GET"},
        )
        other = client.options(
            "/v1/incidents",
            headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"},
        )

    assert allowed.headers["access-control-allow-origin"] == "https://cad.example.gov"
    assert "access-control-allow-origin" not in other.headers


@pytest.mark.parametrize(
    "unsafe",
    [
        {"database_url": None, "signing_key": KEY},
        {"database_url": "postgresql://mal:postgres@db/mal", "signing_key": KEY},
        {"database_url": "postgresql://mal@db/mal", "signing_key": KEY},
        {"database_url": "postgresql://mal:Str0ng-and-long@db/mal", "signing_key": None},
        {
            "database_url": "postgresql://mal:Str0ng-and-long@db/mal",
            "signing_key": KEY,
            "auth_lockout": False,
        },
    ],
    ids=["sqlite", "default password", "no password", "no signing key", "no lockout"],
)
def test_production_refuses_to_start_with_a_default_secret(unsafe: dict[str, object]) -> None:
    with pytest.raises(ValidationError, match="production needs"):
        Settings(environment="production", **unsafe)  # type: ignore[arg-type]


def test_production_starts_with_real_secrets() -> None:
    settings = Settings(
        environment="production",
        database_url="postgresql://mal:Str0ng-and-long@db/mal",
        signing_key=KEY,
    )

    assert settings.uses_postgres
