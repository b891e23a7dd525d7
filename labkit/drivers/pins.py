"""One owner of the kit's outputs at a time: the pin lease.

Everything that drives the LED, RGB LED, buzzer, servo, fan or pump goes through
`runtime.pins`: the idle demo, a running lab, a /learn or /audio action, the teacher console,
a student program. Whoever holds the lease may drive the outputs; anyone else gets `PinsBusy`
(the page answers 409 with who holds the kit, e.g. "李明's lab is running, 3 of 3 steps done"),
so a lab's log never records what another page did.

    with runtime.pins.lease(Holder("learn", "learn")):    # a one-shot action
        kit.led.on()

    lease = runtime.pins.acquire(Holder("lab:42", "lab", "李明"), on_preempt=runner_stop)
    ...
    lease.release()

A holder marked `soft` (the idle demo) gives way to anyone; taking the kit from anyone else
needs `takeover=True`, which the page sends only after the user confirmed. Taking over calls
the old holder's `on_preempt` (a lab is stopped, its run kept as 'stopped').

Another process on the same kit (a pipeline started at boot) is kept out by `guard`, an
`outputlock.OutputLock` taken while a holder that is not soft holds the lease.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import Any, Callable

from labkit import steady
from labkit.errors import LabkitError

log = logging.getLogger(__name__)

KINDS = ("idle", "lab", "demo", "learn", "audio", "console", "program", "pipeline")


@dataclass(frozen=True)
class Holder:
    """Who drives the outputs: a stable id (`lab:42`), a kind (KINDS) and a display name
    (a roster name, a project name), plus a callable giving live progress for the page."""

    id: str
    kind: str
    name: str = ""
    soft: bool = False
    progress: Callable[[], dict[str, Any]] | None = field(default=None, compare=False)

    def describe(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "kind": self.kind, "name": self.name}
        if self.progress is not None:
            try:
                out.update(self.progress())
            except Exception:  # progress is for display only
                log.debug("holder progress failed", exc_info=True)
        return out


class PinsBusy(LabkitError):
    """Someone else holds the kit's outputs. `holder` says who (for the page's message)."""

    def __init__(self, holder: Holder) -> None:
        who = f"{holder.name}'s {holder.kind}" if holder.name else holder.kind
        super().__init__(f"the kit's outputs are in use ({who})", code="pins_busy",
                         fix="wait until it has finished, or take over after confirming")
        self.holder = holder


class Lease:
    """The right to drive the outputs, until `release()` (or the end of a `with` block)."""

    def __init__(self, pins: "Pins", holder: Holder) -> None:
        self.pins = pins
        self.holder = holder
        self.since = steady.now()
        self.released = False

    @property
    def active(self) -> bool:
        return not self.released and self.pins.current is self

    def release(self) -> None:
        self.pins._release(self)

    def drive(self, change: Callable[[], Any]) -> bool:
        """Make `change` to the outputs only while this lease holds them: under the lease
        book's lock, so a takeover waits for a change already under way and no change of
        this holder's comes after it. False (nothing done) once the lease has gone."""
        with self.pins._lock:
            if not self.active:
                return False
            change()
            return True

    def __enter__(self) -> "Lease":
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


class Pins:
    """The lease book of one kit."""

    def __init__(self, bus: Any = None, guard: Any = None) -> None:
        self._lock = threading.RLock()
        self.guard = guard
        self.current: Lease | None = None
        self._on_preempt: Callable[[], Any] | None = None
        self._depth = 0
        self.bus = bus

    @property
    def holder(self) -> Holder | None:
        lease = self.current
        return lease.holder if lease is not None else None

    def describe(self) -> dict[str, Any] | None:
        holder = self.holder
        return holder.describe() if holder is not None and not holder.soft else None

    def acquire(self, holder: Holder, *, takeover: bool = False,
                on_preempt: Callable[[], Any] | None = None) -> Lease:
        """Hold the outputs as `holder`. The same holder again nests; a soft holder gives
        way; anyone else → PinsBusy unless `takeover` (then the old holder is preempted)."""
        preempt: Callable[[], Any] | None = None
        with self._lock:
            cur = self.current
            if cur is not None and cur.holder.id == holder.id:
                self._depth += 1
                return cur
            if cur is not None and not cur.holder.soft and not takeover:
                raise PinsBusy(cur.holder)
            self._guard(holder, cur.holder if cur is not None else None)
            if cur is not None:
                preempt = self._on_preempt
                log.info("pins: %s takes over from %s", holder.id, cur.holder.id)
                cur.released = True
            lease = Lease(self, holder)
            self.current, self._on_preempt, self._depth = lease, on_preempt, 1
        if preempt is not None:
            try:
                preempt()
            except Exception:
                log.exception("pins: the previous holder did not let go cleanly")
        self._publish()
        return lease

    def _guard(self, new: Holder, old: Holder | None) -> None:
        """Keep the cross-process lock while a holder that is not soft drives the outputs
        (raises PinsBusy, before anything changed, when another process has them)."""
        if self.guard is None:
            return
        if not new.soft:
            self.guard.take(new)           # also re-labels the lock for a takeover
        if old is not None and not old.soft:
            self.guard.drop()

    def held_elsewhere(self) -> Holder | None:
        """Who drives the outputs from another process now, if anyone."""
        return self.guard.held_elsewhere() if self.guard is not None else None

    def lease(self, holder: Holder, *, takeover: bool = False) -> Lease:
        """`with pins.lease(holder):` — acquire for a block (one-shot actions)."""
        return self.acquire(holder, takeover=takeover)

    def check(self, holder_id: str) -> None:
        """Raise PinsBusy unless `holder_id` holds the outputs or nobody (but a soft holder)
        does — for code that drives pins from callbacks without taking the lease itself."""
        cur = self.current
        if cur is not None and cur.holder.id != holder_id and not cur.holder.soft:
            raise PinsBusy(cur.holder)

    def _release(self, lease: Lease) -> None:
        with self._lock:
            if lease.released or self.current is not lease:
                lease.released = True
                return
            self._depth -= 1
            if self._depth > 0:
                return
            lease.released = True
            self.current, self._on_preempt = None, None
            if self.guard is not None and not lease.holder.soft:
                self.guard.drop()
        self._publish()

    def _publish(self) -> None:
        if self.bus is not None:
            self.bus.publish("pins.holder", {"holder": self.describe()})
