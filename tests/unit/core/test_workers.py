"""The heavy-work pool hands a worker back before its caller hears the result, so a caller
that returns and asks again (or checks what runs) finds it free; a job cancelled before it
ran frees its worker too."""

from __future__ import annotations

import threading
import time
from concurrent.futures import CancelledError, ThreadPoolExecutor
from typing import Any

import pytest

from labkit import workers
from tests.helpers import wait_until


class SlowCallbacks(ThreadPoolExecutor):
    """A pool whose futures have a slow done-callback of their own before anyone else's (as
    when the pool's thread is held up on a busy machine right after the job)."""

    def __init__(self, gate: threading.Event) -> None:
        super().__init__(max_workers=workers.WORKERS)
        self.gate = gate

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Any:
        future = super().submit(fn, *args, **kwargs)
        future.add_done_callback(lambda _f: time.sleep(0.3))
        threading.Timer(0.2, self.gate.set).start()       # the job ends once it is waited on
        return future


def test_a_worker_is_free_when_its_caller_has_the_result(
        monkeypatch: pytest.MonkeyPatch) -> None:
    gate = threading.Event()
    pool = SlowCallbacks(gate)
    monkeypatch.setattr(workers, "_pool", pool)
    try:
        assert workers.heavy_work(lambda: gate.wait(10) and 7) == 7
        assert workers.running() == 0, "the caller has its result, its worker is still taken"
    finally:
        pool.shutdown(wait=True)


def test_a_job_cancelled_before_it_ran_frees_its_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    busy = threading.Event()
    pool = ThreadPoolExecutor(max_workers=1)
    pool.submit(busy.wait, 10)                    # the pool's one thread is taken
    monkeypatch.setattr(workers, "_pool", pool)
    outcome: list[BaseException] = []

    def call() -> None:
        try:
            workers.heavy_work(lambda: 1)
        except BaseException as exc:  # noqa: BLE001 - the outcome is what the test reads
            outcome.append(exc)

    caller = threading.Thread(target=call)
    caller.start()
    try:
        assert wait_until(lambda: pool._work_queue.qsize() == 1), "the job was never queued"
        pool.shutdown(wait=False, cancel_futures=True)
    finally:
        busy.set()
    caller.join(10)
    assert len(outcome) == 1 and isinstance(outcome[0], CancelledError), outcome
    assert workers.running() == 0
