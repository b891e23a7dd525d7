"""Training in a child process: progress reaches the bus, features were precomputed, the model
predicts live in the kit's process, and a crash in training is a clear error, not a dead page."""

from __future__ import annotations

import os
import signal
import time
from typing import Any

import pytest

from labkit.learn.service import LearnService
from labkit.learn.synthetic import SHAPES, shapes_dataset
from tests.helpers import events_until


def _wait_job(service: LearnService, pid: str, timeout: float = 180.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = service.job(pid)
        if job and job["state"] != "running":
            return job
        time.sleep(0.1)
    raise AssertionError(f"training did not finish: {service.job(pid)}")


@pytest.fixture
def service(runtime: Any, model_store: Any) -> Any:
    svc = LearnService(runtime, store=model_store)
    yield svc
    svc.close()


def _image_project(service: LearnService, per_class: int = 10) -> Any:
    images, labels = shapes_dataset(per_class, SHAPES, seed=1)
    project = service.projects.create("形状", "image", list(SHAPES))
    ids = {c.name: c.id for c in project.classes}
    for img, label in zip(images, labels, strict=True):
        sample = project.add_sample(ids[label], img)
        service.sample_saved(project, sample.id)
    return project


def test_training_runs_in_a_child_with_precomputed_features(service, runtime):
    sub = runtime.bus.subscribe("learn")
    project = _image_project(service)
    assert service._features.wait_idle(project.id, 120)
    job = service.start_training(project.id)
    assert job["state"] == "running"
    for _ in range(100):  # the child has taken the job
        if service._worker.running_pid:
            break
        time.sleep(0.05)
    child = service._worker.running_pid
    assert child is not None and child != os.getpid()
    job = _wait_job(service, project.id)
    assert job["state"] == "done", job
    assert job["features_cached"] == {"hits": 40, "misses": 0}  # Train only fitted
    deadline = time.monotonic() + 30
    while service._worker.last_exitcode is None and time.monotonic() < deadline:
        time.sleep(0.1)
    assert service._worker.last_exitcode == 0  # the child exited: its memory went with it
    # to the job's end: its event goes out just after the job reads done
    events = events_until(sub, lambda es: any(
        e.topic == "learn.progress" and e.data.get("state") == "done" for e in es), timeout=30)
    sub.close()
    states = [e.data.get("state") for e in events if e.topic == "learn.progress"]
    assert states[0] == "running" and states[-1] == "done"
    assert any(e.topic == "learn.features" for e in events)
    # the web process reads the child's model: the project knows it and it predicts live
    assert sorted(project.model["classes"]) == sorted(SHAPES)
    assert project.model["outdated"] is False
    result = service.predict_live(project.id, act=False)
    assert result["label"] in SHAPES


def test_a_crash_in_training_is_a_clear_error_and_the_next_training_works(service):
    project = _image_project(service, per_class=6)
    service.start_training(project.id)
    deadline = time.monotonic() + 60
    while service._worker.running_pid is None and time.monotonic() < deadline:
        time.sleep(0.01)
    os.kill(service._worker.running_pid, signal.SIGKILL)
    job = _wait_job(service, project.id)
    assert job["state"] == "error" and job["code"] == "train_crashed"
    assert "Train" in str(job["message"]) and job["fix"]
    job = service.start_training(project.id)
    assert _wait_job(service, project.id)["state"] == "done"


def test_deleting_a_sample_deletes_its_cached_features(service):
    project = _image_project(service, per_class=2)
    assert service._features.wait_idle(project.id, 120)
    rows = list((project.root / "features").glob("*/*.npy"))
    assert len(rows) == 8
    sample_id = project.classes[0].samples[0].id
    service.forget_features(project, sample_id)
    project.delete_sample(sample_id)
    assert len(list((project.root / "features").glob("*/*.npy"))) == 7
