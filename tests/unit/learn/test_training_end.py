"""A training job reads as ended only once the kit can train again: a page that trains again
the moment it reads "done" (or "error") is never told the kit is still busy."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from labkit.learn.service import LearnService
from tests.helpers import wait_until

TRAIN_THREAD = "labkit-learn-train"


class WatchedLock:
    """The service's lock, noting when the training thread has to wait for it."""

    def __init__(self, lock: Any) -> None:
        self._lock = lock
        self.training_waits = threading.Event()

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        if threading.current_thread().name == TRAIN_THREAD:
            self.training_waits.set()
        return self._lock.acquire(blocking, timeout)

    def release(self) -> None:
        self._lock.release()

    def __enter__(self) -> "WatchedLock":
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


class QuickWorker:
    """A training child that answers at once (or fails, as a crashed child does)."""

    def __init__(self, fail: bool = False) -> None:
        self.fail = fail

    def run(self, job: dict[str, Any], progress: Any = None) -> dict[str, Any]:
        from labkit.learn.worker import TrainingCrashed

        if self.fail:
            raise TrainingCrashed("the training child died", code="train_crashed", fix="again")
        return {"model": {"trained_at": "2026-01-01T00:00:00", "classifier": "logistic"},
                "report": {"accuracy": 1.0}}

    def close(self) -> None:
        pass


@pytest.fixture
def service(runtime: Any) -> Any:
    svc = LearnService(runtime)
    yield svc
    svc.close()


def _sensor_project(service: LearnService) -> Any:
    project = service.projects.create("近远", "sensor", ["近", "远"])
    for cls, level in zip(project.classes, (0.1, 0.9), strict=True):
        for _ in range(10):
            project.add_sample(cls.id, {"channels": ["distance", "light"],
                                        "values": [[level, 0.5]] * 10})
    return project


@pytest.mark.parametrize("fail", [False, True], ids=["done", "error"])
def test_a_job_reads_ended_only_when_the_kit_can_train_again(service: Any, fail: bool) -> None:
    project = _sensor_project(service)
    service._worker.close()
    service._worker = QuickWorker(fail=fail)
    watched = service._lock = WatchedLock(service._lock)
    with watched:
        service.start_training(project.id)
        # the training thread has trained and waits for the service's lock to end the job
        assert watched.training_waits.wait(30), "the training thread never ended its job"
        job = service.job(project.id)
        assert job is not None and job["state"] == "running", \
            "the job reads as ended while the kit still holds its training lock"
    assert wait_until(lambda: service.job(project.id)["state"] != "running", 30)
    ended = service.job(project.id)
    assert ended["state"] == ("error" if fail else "done"), ended
    service._worker = QuickWorker()
    assert service.start_training(project.id)["state"] == "running"    # not "busy"
    assert wait_until(lambda: service.job(project.id)["state"] == "done", 30)
