"""Work on a daemon thread of its own, until stopped: a loop of its own (Background), or rounds
every few seconds (Periodic)."""

import threading
from collections.abc import Callable


class Background:
    """``work`` runs on the thread and returns once ``_stop`` is set."""

    def __init__(self, name: str, work: Callable[[], None]) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=work, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)


class Periodic(Background):
    def __init__(self, name: str, interval: float, round_of_work: Callable[[], None]) -> None:
        super().__init__(name, self._rounds)
        self._interval = interval
        self._round = round_of_work

    def _rounds(self) -> None:
        while not self._stop.wait(self._interval):
            self._round()
