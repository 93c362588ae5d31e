"""Renders the status board with generated data into docs/board.png (for the README).

.venv/bin/python -m scripts.board_screenshot
"""

import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from playwright.sync_api import sync_playwright

from app.settings import Settings
from tests.api import bodies
from tests.e2e.test_status_board import CHROMIUM, FLAGS
from tests.integration.server import ServerProcess
from tests.integration.test_crash_recovery import keys

OUT = Path(__file__).resolve().parents[1] / "docs" / "board.png"


def main() -> None:
    settings = Settings(data_dir=Path(tempfile.mkdtemp()))
    key = keys(settings)
    server = ServerProcess(settings)
    server.start()
    kpd, kcsd = ({"Authorization": f"Bearer {key[a]}"} for a in ("KPD", "KCSD"))
    # The board shows aid of the last 12 months only: the incidents end a month ago.
    first = datetime.now(UTC) - timedelta(days=29 * 9)
    with httpx.Client(base_url=server.url, timeout=30) as api:
        for n in range(9):
            at = (first + timedelta(days=29 * n)).isoformat()
            asked = "KCSD" if n % 3 else "PPPD"
            body = bodies.open_body(f"K-2026-{n:04}", asked, occurred_at=at)
            body["request"]["needed_at"] = at
            incident = api.post("/v1/incidents", json=body, headers=kpd).json()["incident_id"]
            path = f"/v1/incidents/{incident}"
            api.post(path + "/requests/1/approve", json=bodies.stamped(at), headers=kpd)
            if asked == "KCSD":
                respond = {**bodies.respond_body(), "occurred_at": at}
                api.post(path + "/requests/1/respond", json=respond, headers=kcsd)
            if n < 6:
                close = bodies.stamped(at, outcome="resolved", release_all=True)
                api.post(path + "/close", json=close, headers=kpd)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
            page = browser.new_page(viewport={"width": 1000, "height": 820})
            page.goto(f"{server.url}/board#key={key['KPD']}")
            page.wait_for_selector("#status:text('Live')", timeout=10_000)
            page.screenshot(path=str(OUT), full_page=True)
            browser.close()
    server.kill()


if __name__ == "__main__":
    main()
