"""Stop the kit's background threads before the interpreter shuts down.

A student's program ends by running off its last line: `LED(17).source = faces.values` and
nothing more. The camera and the detectors then still run on daemon threads, and Python kills
daemon threads at finalisation wherever they are. A thread caught inside a model's C++ code
(TFLite, ONNX Runtime) as it tries to retake the GIL is unwound by `pthread_exit`, which C++
turns into `std::terminate`: the program aborts with "terminate called without an active
exception" instead of exiting 0. `atexit` callbacks run before that moment, so every object
that owns such a thread registers the method that stops (and joins) it here.

Owners are held weakly: registering never keeps a camera or detector alive.
"""

from __future__ import annotations

import atexit
import itertools
import logging
import threading
import weakref
from collections.abc import Callable

log = logging.getLogger(__name__)


class ExitStops:
    """Bound `stop` methods to call once, newest first, when asked (at exit for the
    process-wide one)."""

    def __init__(self) -> None:
        self._live: dict[int, weakref.WeakMethod[Callable[[], object]]] = {}
        self._order = itertools.count()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._live)

    def add(self, stop: Callable[[], object]) -> None:
        """Call the bound method `stop` later, if its owner still lives then."""
        key = next(self._order)

        def forget(_: object) -> None:
            with self._lock:
                self._live.pop(key, None)

        with self._lock:
            self._live[key] = weakref.WeakMethod(stop, forget)

    def stop_all(self) -> int:
        """Stop every live owner, newest first (a detector before the camera it reads).
        Returns how many were stopped; one that fails is logged, never raised, so the others
        still stop."""
        with self._lock:
            methods = [self._live[key] for key in sorted(self._live, reverse=True)]
            self._live.clear()
        stopped = 0
        for ref in methods:
            stop = ref()
            if stop is None:
                continue
            try:
                stop()
                stopped += 1
            except Exception:  # shutting down: report and go on with the rest
                log.exception("could not stop %r at exit", stop)
        return stopped


AT_EXIT = ExitStops()
stop_at_exit = AT_EXIT.add
atexit.register(AT_EXIT.stop_all)
