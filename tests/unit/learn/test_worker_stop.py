"""A training job whose child is told (`running_pid`) can be stopped at once: the next-class
reset reads the pid and calls stop_job() straight away."""

from __future__ import annotations

import multiprocessing
import threading
import time
from typing import Any

from labkit.learn.worker import TrainingCrashed, TrainingWorker


class StoppedOnSight(TrainingWorker):
    """A worker whose job is stopped the moment its child's pid is told."""

    stopped: bool | None = None

    @property
    def running_pid(self) -> int | None:
        return self._pid

    @running_pid.setter
    def running_pid(self, pid: int | None) -> None:
        self._pid = pid
        if pid is not None and self.stopped is None:
            self.stopped = self.stop_job()


def test_a_job_is_stoppable_as_soon_as_its_child_is_told(settings: Any) -> None:
    worker = StoppedOnSight(settings)
    ctx = multiprocessing.get_context("fork")
    parent, child = ctx.Pipe(duplex=True)
    proc = ctx.Process(target=time.sleep, args=(60,), daemon=True)   # a child never answering
    proc.start()
    child.close()
    worker._proc, worker._conn = proc, parent
    outcome: list[BaseException] = []

    def train() -> None:
        try:
            worker.run({"project": "p"}, timeout=30)
        except BaseException as exc:  # noqa: BLE001 - the outcome is what the test reads
            outcome.append(exc)

    thread = threading.Thread(target=train)
    thread.start()
    thread.join(timeout=20)
    if proc.is_alive():
        proc.kill()
    assert worker.stopped is True, "the job's pid was told before the job could be stopped"
    assert not thread.is_alive()
    assert isinstance(outcome[0], TrainingCrashed) and outcome[0].code == "train_stopped"
