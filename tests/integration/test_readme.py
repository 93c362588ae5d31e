"""The README's walk-through works as written against the real service."""

import re
import subprocess
from pathlib import Path

from app.settings import Settings
from tests.integration.server import ServerProcess, environment

ROOT = Path(__file__).resolve().parents[2]


def walk_through() -> str:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Walk-through", 1)[1]
    match = re.search(r"```bash\n(.*?)```", section, re.DOTALL)
    assert match
    return match.group(1).replace("MAL_URL=http://127.0.0.1:8000", "")


def test_the_readme_walk_through_runs_as_written(sqlite_settings: Settings) -> None:
    server = ServerProcess(sqlite_settings)
    server.start()
    try:
        env = {**environment(sqlite_settings), "MAL_URL": server.url}
        script = "set -euo pipefail\n" + walk_through()
        done = subprocess.run(
            ["bash", "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
        )
    finally:
        server.kill()

    assert done.returncode == 0, done.stderr + "".join(server.log)
    assert '"outcome":"Crowd dispersed by 03:15; three arrests, no injuries"' in done.stdout
    assert '"status":"partially_accepted"' in done.stdout
    assert '"department":"KCSD"' in done.stdout
