"""The source an access log entry names, and the lockout counts by, is the connecting peer:
X-Forwarded-For is believed only from a proxy named in MAL_TRUSTED_PROXIES."""

import sqlite3
from pathlib import Path

import httpx
import pytest

from app.settings import Settings
from tests.integration.server import ServerProcess

FORGED = "203.0.113.9"


@pytest.mark.parametrize(("trusted", "source"), [([], "127.0.0.1"), (["127.0.0.1"], FORGED)])
def test_a_forwarded_source_is_believed_only_from_a_trusted_proxy(
    tmp_path: Path, trusted: list[str], source: str
) -> None:
    settings = Settings(data_dir=tmp_path, trusted_proxies=trusted)
    server = ServerProcess(settings)
    server.start()
    try:
        answer = httpx.get(f"{server.url}/healthz", headers={"X-Forwarded-For": FORGED})
    finally:
        server.kill()
    with sqlite3.connect(settings.sqlite_files.access_log) as conn:
        logged = conn.execute("SELECT source FROM access_log WHERE path = '/healthz'").fetchall()

    assert answer.status_code == 200
    assert logged == [(source,)]


@pytest.mark.parametrize("proxies", [["*"], ["proxy.example"]])
def test_a_trusted_proxy_is_an_address_or_a_network(proxies: list[str]) -> None:
    with pytest.raises(ValueError, match="does not appear to be an IPv4 or IPv6"):
        Settings(trusted_proxies=proxies)
