"""The access log's spool: where the writer keeps entries while the database is unavailable,
until it can move them into the table (app/access_writer.py).

Files of JSON lines under ``<data_dir>/access_log_spool``, one per process, each locked
(``flock``) by the process that holds it: the one that wrote it, or, once that process is gone
(the kernel drops its lock when it dies, even by SIGKILL), the first process to start after
it and claim it. A file is made under a temporary name and renamed once locked, so no process
claims a file being made; a file is removed once its entries are in the table, while still
locked, and a claim checks that the locked file is still the one under its name, so no
process claims a file already replayed. Every entry carries an id of its own (``spool_id``,
unique in the table): moving a file's entries skips those already in the table, so an entry
is in the table once however often its file is replayed (a crash between the insert's commit
and the file's removal).
"""

import fcntl
import json
import logging
import os
from dataclasses import dataclass
from datetime import datetime
from io import FileIO
from pathlib import Path
from typing import Any
from uuid import uuid4

log = logging.getLogger(__name__)


@dataclass
class SpoolFile:
    path: Path
    file: FileIO  # locked by this process
    entries: int


class Spool:
    """This process's spool files, oldest first: those it claimed, then its own."""

    def __init__(self, folder: Path) -> None:
        self._folder = folder
        self.files: list[SpoolFile] = []
        self._own: SpoolFile | None = None
        folder.mkdir(parents=True, exist_ok=True)
        for path in sorted(folder.glob("*.jsonl")):
            if file := claimed(path):
                self.files.append(SpoolFile(path, file, len(read(file))))

    @property
    def entries(self) -> int:
        return sum(f.entries for f in self.files)

    def append(self, entries: list[dict[str, Any]]) -> bool:
        """Whether the entries are on disk (flushed and fsynced); False if the disk refused
        them (full), and then the file is as it was."""
        try:
            self._write(entries)
        except OSError:
            log.exception("the access log spool refused %d entries", len(entries))
            return False
        return True

    def remove(self, spooled: SpoolFile) -> None:
        """Once its entries are in the table."""
        spooled.path.unlink()
        spooled.file.close()
        self.files.remove(spooled)
        if spooled is self._own:
            self._own = None

    def close(self) -> None:
        for spooled in self.files:
            spooled.file.close()

    def _write(self, entries: list[dict[str, Any]]) -> None:
        lines = b"".join(encoded(entry) for entry in entries)
        own = self._own or self._new_file()
        end = own.file.seek(0, os.SEEK_END)
        try:
            while lines:
                lines = lines[own.file.write(lines) :]
            os.fsync(own.file.fileno())
        except OSError:
            os.ftruncate(own.file.fileno(), end)  # no part of a line before the next ones
            raise
        own.entries += len(entries)

    def _new_file(self) -> SpoolFile:
        name = uuid4().hex
        making = self._folder / f"{name}.making"
        file = FileIO(making, "x+")
        fcntl.flock(file, fcntl.LOCK_EX)
        path = making.rename(self._folder / f"{name}.jsonl")
        folder = os.open(self._folder, os.O_RDONLY)
        try:
            os.fsync(folder)  # the file's name survives a crash of the machine
        finally:
            os.close(folder)
        self._own = SpoolFile(path, file, 0)
        self.files.append(self._own)
        return self._own


def claimed(path: Path) -> FileIO | None:
    """The file, locked by this process, if no living process holds it and it has not been
    replayed and removed meanwhile."""
    try:
        file = FileIO(path, "r+")
    except FileNotFoundError:
        return None
    try:
        fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        if os.stat(path).st_ino == os.fstat(file.fileno()).st_ino:
            return file
    except (BlockingIOError, FileNotFoundError):
        pass
    file.close()
    return None


def read(file: FileIO) -> list[dict[str, Any]]:
    """The file's entries in order. A line cut short by a crash while it was written is
    skipped: its requests were never answered."""
    file.seek(0)
    entries = []
    for line in file.readall().splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            log.warning("access log spool: skipped an incomplete line %r", line)
            continue
        entries.append({**entry, "at": datetime.fromisoformat(entry["at"])})
    return entries


def encoded(entry: dict[str, Any]) -> bytes:
    spooled = {**entry, "at": entry["at"].isoformat(), "spool_id": uuid4().hex}
    return json.dumps(spooled).encode() + b"\n"
