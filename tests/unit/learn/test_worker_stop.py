"""A training job whose child is told (`running_pid`) can be stopped at once: the next-class
reset reads the pid and calls stop_job() straight away."""

from __future__ import annotations

from typing import Any

from labkit.learn.worker import TrainingCrashed, TrainingWorker
from tests.helpers import train_on_a_silent_child


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
    thread, proc, outcome = train_on_a_silent_child(worker)
    thread.join(timeout=20)
    if proc.is_alive():
        proc.kill()
    assert worker.stopped is True, "the job's pid was told before the job could be stopped"
    assert not thread.is_alive()
    assert isinstance(outcome[0], TrainingCrashed) and outcome[0].code == "train_stopped"
