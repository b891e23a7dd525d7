"""A kit's live status in a few bytes: the lab running, camera, models, free disk.

The same status goes into the zeroconf TXT record (so the lead's room page shows it for every
kit it hears, paired or not) and into the signed `/fleet/v1/status` answer (kits added by
address). TXT keys are short: a TXT record should stay well under the 1300 bytes of one packet.

Re-announcing costs multicast packets on a classroom's Wi-Fi, so a changed status is announced
at most once every `min_interval` seconds (`RateLimiter`); a change made meanwhile is sent when
that time is up, so the last status always gets out.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable

log = logging.getLogger(__name__)

MIN_INTERVAL_S = 5.0     # at most one re-announcement per this many seconds
POLL_S = 2.0             # how often the kit looks at its own status


@dataclass(frozen=True)
class KitStatus:
    """`None` for a fact the kit could not tell."""
    lab: str | None = None              # the lab running now (id), None: no lab
    camera_ok: bool | None = None
    models_ok: bool | None = None       # every model's files match their recorded hashes
    disk_free_pct: int | None = None

    def txt(self) -> dict[str, str]:
        def flag(value: bool | None) -> str:
            return "" if value is None else ("1" if value else "0")

        return {"lab": (self.lab or "")[:64], "cam": flag(self.camera_ok),
                "mod": flag(self.models_ok),
                "disk": "" if self.disk_free_pct is None else str(self.disk_free_pct)}

    def as_dict(self) -> dict[str, Any]:
        return {"lab": self.lab, "camera_ok": self.camera_ok, "models_ok": self.models_ok,
                "disk_free_pct": self.disk_free_pct}


def from_txt(text: Callable[[str], str]) -> KitStatus | None:
    """The status in a TXT record (`text(key)` reads one value), None if it has none (a kit
    of an older labkit)."""
    def flag(key: str) -> bool | None:
        value = text(key)
        return True if value == "1" else False if value == "0" else None

    if not any(text(k) for k in ("lab", "cam", "mod", "disk")):
        return None
    try:
        disk: int | None = max(0, min(100, int(text("disk"))))
    except ValueError:
        disk = None
    return KitStatus(lab=text("lab") or None, camera_ok=flag("cam"), models_ok=flag("mod"),
                     disk_free_pct=disk)


def disk_free_pct(total: int, free: int) -> int | None:
    return round(100 * free / total) if total > 0 else None


class RateLimiter:
    """Decides when a changed status may be announced (clock passed in: testable)."""

    def __init__(self, min_interval: float = MIN_INTERVAL_S) -> None:
        self.min_interval = min_interval
        self.sent: KitStatus | None = None
        self._sent_at: float | None = None
        self.pending: KitStatus | None = None

    def offer(self, status: KitStatus, now: float) -> KitStatus | None:
        """The status to announce now, or None (unchanged, or too soon: kept for later)."""
        if status == self.sent:
            self.pending = None
            return None
        if self._sent_at is not None and now - self._sent_at < self.min_interval:
            self.pending = status
            return None
        self.sent, self._sent_at, self.pending = status, now, None
        return status

    def first(self, status: KitStatus, now: float) -> None:
        """The status the kit registered with (announced by the registration itself)."""
        self.sent, self._sent_at, self.pending = status, now, None


class StatusWatcher:
    """Looks at the kit's status every `poll` seconds and calls `announce` with each change,
    rate-limited. `read` runs on the watcher's thread (it may hash model files)."""

    def __init__(self, read: Callable[[], KitStatus], announce: Callable[[KitStatus], None],
                 *, poll: float = POLL_S, min_interval: float = MIN_INTERVAL_S) -> None:
        self.read, self.announce, self.poll = read, announce, poll
        self.limiter = RateLimiter(min_interval)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, initial: KitStatus) -> "StatusWatcher":
        self.limiter.first(initial, time.monotonic())
        self._thread = threading.Thread(target=self._loop, name="labkit-kit-status",
                                        daemon=True)
        self._thread.start()
        return self

    def _loop(self) -> None:
        while not self._stop.wait(self.poll):
            try:
                status = self.read()
                due = self.limiter.offer(status, time.monotonic())
                if due is not None:
                    self.announce(due)
            except Exception:      # a failing check must not end the announcements
                log.exception("cannot read or announce the kit's status")

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)


class StatusAnnouncements:
    """Once `announcer` has registered the kit (zeroconf probing takes seconds), re-announce
    its TXT record with each status change. `announced[-1]` is the status the registration
    carried (appended by whoever built the record)."""

    def __init__(self, announcer: Any, read: Callable[[], KitStatus],
                 announced: list[KitStatus], *, poll: float = POLL_S,
                 min_interval: float = MIN_INTERVAL_S) -> None:
        self._watcher = StatusWatcher(read, lambda s: announcer.update(s.txt()), poll=poll,
                                      min_interval=min_interval)
        self._announcer, self._announced = announcer, announced
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._start, name="labkit-status-start",
                                        daemon=True)
        self._thread.start()

    def _start(self) -> None:
        while not self._closed.is_set():
            if self._announcer.registered.wait(1.0):
                if not self._closed.is_set() and self._announced:
                    self._watcher.start(self._announced[-1])
                return

    def close(self) -> None:
        self._closed.set()
        self._thread.join(timeout=5)
        self._watcher.close()
