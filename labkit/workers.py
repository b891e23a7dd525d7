"""A small bounded pool for heavy decoding (uploaded WAVs and images, resampling).

Why: each web request runs on its own waitress thread, so three uploads that each cost a
gigabyte to decode would run at once and take the server's memory. Heavy work instead runs
here: at most `WORKERS` jobs at a time; a caller waits up to `WAIT_S` for a free worker and
then gets a clear "busy" error instead of piling up. The caller waits for its job's result
(errors are raised in the caller's thread as if it had run the job itself).
"""

from __future__ import annotations

import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Callable, TypeVar

T = TypeVar("T")

WORKERS = 2
WAIT_S = 30.0

_lock = threading.Lock()
_pool: ThreadPoolExecutor | None = None
_admitted = threading.BoundedSemaphore(WORKERS)
_local = threading.local()


def _executor() -> ThreadPoolExecutor:
    global _pool
    with _lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="labkit-heavy")
        return _pool


def heavy_work(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run `fn(*args, **kwargs)` in the bounded pool and return its result.

    A job that itself calls heavy_work runs the inner call inline (no deadlock on a full
    pool). Raises a `Problem` with code "busy" when no worker is free within WAIT_S.
    """
    if getattr(_local, "inside", False):
        return fn(*args, **kwargs)
    if not _admitted.acquire(timeout=WAIT_S):
        from labkit.store.problems import N_, Problem

        raise Problem(N_("The kit is busy with other uploads."), code="busy",
                      fix=N_("Try again in a minute."))

    def job() -> T:
        _local.inside = True
        try:
            return fn(*args, **kwargs)
        finally:
            _local.inside = False
            # the worker is free before its caller hears the result: a done-callback runs
            # only after the caller may already have returned and asked for the next one
            _admitted.release()

    try:
        future = _executor().submit(job)
    except BaseException:
        _admitted.release()
        raise
    future.add_done_callback(_release_if_never_run)
    return future.result()


def _release_if_never_run(future: Future[Any]) -> None:
    """A job cancelled before it ran (the pool shutting down) still frees its worker."""
    if future.cancelled():
        _admitted.release()


def running() -> int:
    """How many jobs are running now (for tests)."""
    return WORKERS - _admitted._value  # type: ignore[attr-defined]
