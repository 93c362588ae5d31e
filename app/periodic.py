"""A round of work every few seconds, on a daemon thread of its own, until stopped."""

import threading
from collections.abc import Callable


class Periodic:
    def __init__(self, name: str, interval: float, round_of_work: Callable[[], None]) -> None:
        self._interval = interval
        self._round = round_of_work
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self._round()
