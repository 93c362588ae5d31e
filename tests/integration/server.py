"""The real service as a child process, to kill and restart it like an operator would."""

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

from app.settings import Settings
from tests.postgres import free_port

CLI = str(Path(sys.executable).parent / "mutual-aid")


def environment(settings: Settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAL_")}
    env["MAL_DATA_DIR"] = str(settings.data_dir)
    if settings.database_url:
        env["MAL_DATABASE_URL"] = settings.database_url
    if settings.trusted_proxies:
        env["MAL_TRUSTED_PROXIES"] = json.dumps(settings.trusted_proxies)
    return env


class ServerProcess:
    def __init__(self, settings: Settings, **env: str) -> None:
        """``env``: more of the service's variables, e.g. MAL_STREAM_POLL_SECONDS="60"."""
        self.settings = settings
        self.env = env
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[str] | None = None
        self.log: list[str] = []  # what the server wrote to stderr, to show when a test fails

    def start(self) -> None:
        """Start and block until uvicorn reports that startup is complete."""
        command = [CLI, "serve", "--port", str(self.port)]
        self.process = subprocess.Popen(
            command,
            env={**environment(self.settings), **self.env},
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.log.append(line)
            if "Application startup complete" in line:
                # Keep draining, so a chatty server never blocks on a full pipe.
                self._drain = threading.Thread(target=self.log.extend, args=(self.process.stderr,))
                self._drain.daemon = True
                self._drain.start()
                return
        raise RuntimeError(f"server exited with {self.process.wait()}: {''.join(self.log)}")

    def wait(self, timeout: float) -> int:
        """Until the server ends on its own; its exit status."""
        assert self.process is not None
        assert self.process.stderr is not None
        status = self.process.wait(timeout)
        self._drain.join(timeout)
        self.process.stderr.close()
        return status

    def kill(self) -> None:
        """SIGKILL: no shutdown handler runs, as in a crash or an OOM kill."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()
        assert self.process.stderr is not None
        self.process.stderr.close()
