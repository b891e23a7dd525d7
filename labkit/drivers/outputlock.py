"""The kit's outputs across processes: an flock on `<data dir>/outputs.lock`.

The pin lease (pins.py) keeps one holder at a time inside a process. A pipeline started at
boot (`labkit pipeline run`, its own process) and `labkit serve` (a lab, a student program)
share the same pins, so whoever holds a lease that is not soft also holds this lock; another
process asking for the outputs meanwhile gets `PinsBusy` saying what holds them, read from
the lock file ("the kit's outputs are in use (queue_alarm's pipeline)", "(lab)"; its id
carries the process id). The file never names a child: it is not sealed.

The kernel drops an flock when its process dies, so a crashed holder never blocks the kit.
Within one process the lock is taken once per file and counted, so two runtimes of one test
process on one data dir do not lock each other out (their leases sort that out in-process).
"""

from __future__ import annotations

import fcntl
import json
import os
import threading
from pathlib import Path
from typing import Any

from labkit.drivers.pins import Holder, PinsBusy

LOCK_FILE = "outputs.lock"

_held: dict[str, list[Any]] = {}       # path → [fd, count] in this process
_lock = threading.Lock()


def _describe(fd: int, holder: Holder) -> None:
    """Who holds the outputs, for another process's refusal: the process, the holder's id
    and kind, never its name. The file is in the clear in the data dir, and a lab's or a
    program's holder is named after the child (docs/architecture.md, data at rest)."""
    data = json.dumps({"pid": os.getpid(), "id": holder.id, "kind": holder.kind},
                      ensure_ascii=False).encode("utf-8")
    os.ftruncate(fd, 0)
    os.pwrite(fd, data, 0)


def _holder_in(path: Path) -> Holder:
    try:
        data = json.loads(path.read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        data = {}
    pid = data.get("pid")
    holder_id, kind = str(data.get("id") or ""), str(data.get("kind") or "process")
    # a pipeline's id carries its file's name ("pipeline:queue_alarm"), which names no one
    name = holder_id.split(":", 1)[1] if kind == "pipeline" and ":" in holder_id else ""
    return Holder(f"process:{pid}:{holder_id}", kind,
                  name or (f"process {pid}" if pid and kind == "process" else ""))


class OutputLock:
    """The lock file of one data dir; `take(holder)` / `drop()` nest within a process."""

    def __init__(self, data_dir: str | os.PathLike[str]) -> None:
        self.path = Path(data_dir) / LOCK_FILE
        self._mine = 0

    def take(self, holder: Holder) -> None:
        """Hold the outputs for `holder`, or raise PinsBusy naming the other process."""
        key = str(self.path.resolve())
        with _lock:
            entry = _held.get(key)
            if entry is None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    os.close(fd)
                    raise PinsBusy(_holder_in(self.path)) from None
                entry = _held[key] = [fd, 0]
            entry[1] += 1
            self._mine += 1
            _describe(entry[0], holder)

    def drop(self) -> None:
        """Let go once (the file is unlocked when this process's last holder lets go)."""
        key = str(self.path.resolve())
        with _lock:
            entry = _held.get(key)
            if entry is None or self._mine <= 0:
                return
            self._mine -= 1
            entry[1] -= 1
            if entry[1] <= 0:
                del _held[key]
                os.ftruncate(entry[0], 0)
                fcntl.flock(entry[0], fcntl.LOCK_UN)
                os.close(entry[0])

    def held_elsewhere(self) -> Holder | None:
        """Who holds the outputs in another process now (None: nobody, or this process)."""
        key = str(self.path.resolve())
        with _lock:
            if key in _held:
                return None
        if not self.path.exists():
            return None
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return _holder_in(self.path)
        finally:
            os.close(fd)     # closing drops the probe's own lock
        return None
