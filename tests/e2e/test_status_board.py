"""Issue 7, must show 4: the built-in status board, in a real headless Chromium, changes
within one second of each write an incident goes through, and stops and asks for a key once
its key is refused."""

import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, sync_playwright

from app.keys import create_key
from app.principals import Role
from app.services import build_services
from app.settings import Settings
from tests.api import bodies
from tests.integration.server import ServerProcess
from tests.integration.test_crash_recovery import keys

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ONE_SECOND = 1_000


@pytest.fixture
def board(sqlite_settings: Settings) -> Iterator[tuple[Page, httpx.Client, dict[str, str]]]:
    key = keys(sqlite_settings)
    server = ServerProcess(sqlite_settings)
    server.start()
    try:
        with sync_playwright() as playwright, httpx.Client(base_url=server.url, timeout=30) as api:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
            page = browser.new_page(viewport={"width": 1000, "height": 900})
            page.goto(f"{server.url}/board#key={key['KPD']}")
            page.wait_for_selector("#status:text('Live')", timeout=10_000)
            yield page, api, key
            browser.close()
    finally:
        server.kill()


def test_the_board_follows_an_incident_within_a_second_of_each_write(
    board: tuple[Page, httpx.Client, dict[str, str]], tmp_path: Path
) -> None:
    page, api, key = board
    kpd, kcsd = ({"Authorization": f"Bearer {key[a]}"} for a in ("KPD", "KCSD"))

    opened = api.post("/v1/incidents", json=bodies.open_body("K-BOARD"), headers=kpd).json()
    page.wait_for_selector("tr[data-case='K-BOARD']", timeout=ONE_SECOND)
    assert page.text_content("#open-count") == "(1)"
    at = f"/v1/incidents/{opened['incident_id']}"
    api.post(at + "/requests/1/approve", json=bodies.stamped(), headers=kpd)
    api.post(at + "/requests/1/respond", json=bodies.respond_body(), headers=kcsd)
    page.wait_for_selector(
        "tr[data-agency='KCSD']:has-text('2 patrol_officer')", timeout=ONE_SECOND
    )
    closing = bodies.stamped(bodies.AFTER_RESPONSE, outcome="dispersed", release_all=True)
    api.post(at + "/close", json=closing, headers=kpd)
    page.wait_for_selector("tr[data-case='K-BOARD']", state="detached", timeout=ONE_SECOND)

    assert page.locator("tr[data-agency]").count() == 0
    assert "KCSD: partially_accepted" not in page.content()
    page.screenshot(path=str(tmp_path / "board.png"))


def test_a_board_whose_key_is_revoked_stops_and_asks_for_another(
    board: tuple[Page, httpx.Client, dict[str, str]], sqlite_settings: Settings
) -> None:
    page, api, key = board
    services = build_services(sqlite_settings)
    admin_key = create_key(services.read_models, "KPD", "key officer", role=Role.ADMIN)
    services.close()
    admin, kcsd = ({"Authorization": f"Bearer {k}"} for k in (admin_key, key["KCSD"]))
    [board_key] = [k for k in api.get("/v1/admin/keys", headers=admin).json() if k["role"] == "cad"]
    sent: list[str] = []

    revoked = api.post(f"/v1/admin/keys/{board_key['key_id']}/revoke", headers=admin)
    api.post("/v1/incidents", json=bodies.open_body("K-ASK-KPD", asked="KPD"), headers=kcsd)
    page.wait_for_selector("#login", state="visible", timeout=5 * ONE_SECOND)
    page.on("request", lambda request: sent.append(request.url))
    page.wait_for_timeout(2.5 * ONE_SECOND)  # the page used to retry every second, forever

    assert revoked.status_code == 200
    assert sent == []
    assert "refused (401)" in (page.text_content("#status") or "")
