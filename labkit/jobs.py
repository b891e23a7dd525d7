"""Background jobs a page starts and then polls: one job per key, its stage and progress.

The shape is the one the `/learn` export job set for pages (`state` running → done | error,
`stage`, `fraction`, and on error `code`, `message`, `fix`), so a page's progress bar reads
every job the same way. A job's work gets a `progress(stage, done, total)` callback; a
`LabkitError` it raises ends the job with that error, anything else with an internal error
(logged), so no job is left running for ever.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any, Callable

from labkit.errors import LabkitError, Text
from labkit.errors import lazy_gettext as _

log = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]
Work = Callable[[Progress], dict[str, Any]]


class Jobs:
    """The jobs of one kind (pack installs, ...), at most one running per key."""

    KEEP_S = 600.0           # a finished job is forgotten after this long

    def __init__(self, name: str, *, publish: Callable[[str, dict[str, Any]], None] | None = None,
                 busy: LabkitError | None = None,
                 announced: tuple[str, ...] = ("key", "state", "stage", "fraction"),
                 hidden: tuple[str, ...] = (), keep_s: float | None = None,
                 failed: Callable[[Exception], Text] | None = None) -> None:
        """`publish(name, fields)` hears each change (throttled to 10 a second while it
        runs) with only the `announced` fields: anyone on the kit's page may listen to the
        bus. `hidden` fields (a result's bytes, say) never leave through `get`: `take` hands
        them over once. `failed(exc)` words the error a bug ends a job with."""
        self.name = name
        self._publish = publish
        self._busy = busy
        self._announced = announced
        self._hidden = frozenset(hidden)
        self._failed = failed or (lambda exc: _("The work stopped with an error: %(why)s",
                                                why=str(exc)))
        if keep_s is not None:
            self.KEEP_S = keep_s
        self._jobs: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()

    def start(self, key: str, work: Work, **fields: Any) -> dict[str, Any]:
        """Run `work` on its own thread; the job as it starts (what a 202 answer carries)."""
        with self._lock:
            self._drop_stale()
            old = self._jobs.get(key)
            if old is not None and old["state"] == "running":
                raise self._busy or LabkitError("busy", code="busy")
            job: dict[str, Any] = {"key": key, "state": "running", "stage": "start",
                                   "done": 0, "total": 0, "fraction": 0.0,
                                   "started": time.time(), **fields}
            self._jobs[key] = job
        self._announce(job)
        started = self._public(job)     # as it starts: a quick job may end before we return
        threading.Thread(target=self._run, args=(job, work), name=f"labkit-{self.name}",
                         daemon=True).start()
        return started

    def __len__(self) -> int:
        with self._lock:
            return len(self._jobs)

    def clear(self) -> None:
        """Forget every job and its results (a job still running finishes into nothing)."""
        with self._lock:
            self._jobs.clear()

    def get(self, key: str) -> dict[str, Any] | None:
        with self._lock:
            job = self._jobs.get(key)
            return self._public(job) if job is not None else None

    def take(self, key: str, field: str,
             allowed: Callable[[dict[str, Any]], bool]) -> tuple[dict[str, Any], Any] | None:
        """(the job, its hidden `field`), removing the field: handed over once, and only if
        `allowed(job)` (a download token, say); None otherwise."""
        with self._lock:
            job = self._jobs.get(key)
            if job is None or field not in job or not allowed(job):
                return None
            value = job.pop(field)
            return self._public(job), value

    def _public(self, job: dict[str, Any]) -> dict[str, Any]:
        """The job as JSON; an error's message is read now, in the asking request's language."""
        out = {k: v for k, v in job.items() if k not in self._hidden}
        for field in ("message", "fix"):
            if out.get(field) is not None:
                out[field] = str(out[field])
        return out

    def wait(self, key: str, timeout: float) -> str | None:
        """The job's state once it is no longer running (or "running" after `timeout`; None:
        no such job): for the CLI and tests; pages poll `get`."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                job = self._jobs.get(key)
                state = job["state"] if job is not None else None
            if state != "running" or time.monotonic() >= deadline:
                return state
            time.sleep(0.02)

    def _run(self, job: dict[str, Any], work: Work) -> None:
        last = [0.0]

        def progress(stage: str, done: int, total: int) -> None:
            fraction = min(1.0, done / total) if total > 0 else 0.0
            with self._lock:
                job.update(stage=stage, done=int(done), total=int(total),
                           fraction=round(fraction, 3))
            now = time.monotonic()
            if now - last[0] > 0.1:
                last[0] = now
                self._announce(job)

        t0 = time.perf_counter()
        try:
            result = work(progress)
            update = {"state": "done", "stage": "done", "fraction": 1.0, **(result or {})}
        except LabkitError as exc:
            update = {"state": "error", "code": exc.code, "message": exc.message_text,
                      "fix": exc.fix_text or None}
        except Exception as exc:  # a bug must still end the job visibly
            log.exception("%s job %s failed", self.name, job["key"])
            update = {"state": "error", "code": "internal", "message": self._failed(exc),
                      "fix": None}
        with self._lock:
            job.update(update, seconds=round(time.perf_counter() - t0, 3))
        self._announce(job)

    def _drop_stale(self) -> None:
        now = time.time()
        for key, job in list(self._jobs.items()):
            if job["state"] != "running" and now - job["started"] > self.KEEP_S:
                del self._jobs[key]

    def _announce(self, job: dict[str, Any]) -> None:
        if self._publish is not None:
            self._publish(self.name, {k: job[k] for k in self._announced if k in job})
