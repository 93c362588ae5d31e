"""Work on a daemon thread of its own, until stopped: in rounds every few seconds (Periodic), or
in a loop of its own (Background)."""

import threading
from collections.abc import Callable


class Background:
    def __init__(self, name: str) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)

    def _run(self) -> None:
        raise NotImplementedError


class Periodic(Background):
    def __init__(self, name: str, interval: float, round_of_work: Callable[[], None]) -> None:
        super().__init__(name)
        self._interval = interval
        self._round = round_of_work

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self._round()
