"""The waste-sorting and gesture-remote labs answer with a model the students taught on /learn.

A tiny project is made through /learn's API and store, trained with the real trainer, and
picked for a running lab run through `/api/labs/runs/<run>/model`: the lab's outputs must then
follow that model's prediction — taught on purpose to disagree with the built-in demo — and the
report card must be the project's held-out figures. Refusals: another student's project (403),
another student's run (403), a project of the wrong kind or never trained (400), all changing
nothing. (The demos, with no project, stay green in test_every_lab_demo.py.)
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pytest

from labkit.drivers import scenes
from labkit.learn.features import HogColourExtractor, LandmarkExtractor, vision_tracker
from labkit.learn.model import train_project
from labkit.projects.runner import LabRunner
from tests.helpers import wait_until


def _wait(predicate: Callable[[], bool], timeout: float = 20.0) -> bool:
    return wait_until(predicate, timeout)


def _show(runtime: Any, picture: Callable[[float], np.ndarray]) -> None:
    camera = runtime.camera
    camera.play(picture)
    if getattr(camera, "_thread", None) is None:
        camera.start()


def _signal(runtime: Any, name: str) -> Any:
    lab = LabRunner.for_runtime(runtime).active
    entry = lab.log.last(name) if lab is not None else None
    return None if entry is None else entry.value


def _rgb(runtime: Any) -> tuple[int, ...]:
    return tuple(round(float(v)) for v in runtime.kit.rgb.value)


def _project(client: Any, runtime: Any, kind: str, classes: list[str], name: str = "我的") -> Any:
    r = client.post("/api/learn/projects", json={"name": name, "kind": kind, "classes": classes})
    assert r.status_code == 201, r.get_data(as_text=True)
    return runtime.services["learn"].projects.get(r.get_json()["id"])


def _second_student(app: Any, runtime: Any, of: Any) -> Any:
    from labkit.store import Store
    from tests.conftest import _signed_in_client

    other = Store.for_runtime(runtime).roster.add_student(of.student.class_id, "另一个学生")
    client = _signed_in_client(app)
    r = client.post(f"/student/classes/{other.class_id}/students/{other.id}", data={"next": "/"})
    assert r.status_code == 302
    return client


def _waste(item: str, variant: int) -> np.ndarray:
    return scenes.render("waste", {"item": item, "variant": variant}, 0.0, 320, 240)


@pytest.fixture
def waste_run(student_client: Any, runtime: Any, model_store: Any, data_dir: Any) -> Any:
    (data_dir / "models").symlink_to(model_store.models_dir, target_is_directory=True)
    empty = scenes.render("empty", {}, 0.0)
    _show(runtime, lambda t: empty)
    r = student_client.post("/api/labs/waste_sorting/start", json={})
    assert r.status_code == 200, r.get_data(as_text=True)
    yield int(r.get_json()["run_id"])
    LabRunner.for_runtime(runtime).stop()


def test_a_taught_project_drives_the_waste_lab(student_client: Any, runtime: Any,
                                               waste_run: int, app: Any) -> None:
    # taught on purpose against the demo: bottles as hazardous, banana peels as recyclable
    project = _project(student_client, runtime, "image", ["有害垃圾", "可回收物", "空"])
    teach = {"有害垃圾": ("bottle", 8), "可回收物": ("banana_peel", 8), "空": (None, 6)}
    for info in project.classes:
        item, n = teach[info.name]
        for v in range(1, n + 1):
            picture = (_waste(item, v) if item else
                       scenes.render("empty", {"dark": 0.04 * (v % 3)}, 0.0, 320, 240))
            project.add_sample(info.id, picture)
    train_project(project, HogColourExtractor())

    listing = student_client.get("/api/labs/waste_sorting/models/sorter").get_json()
    mine = next(p for p in listing["projects"] if p["id"] == project.id)
    assert mine["trained"] and mine["mapped"] == {"有害垃圾": "hazardous",
                                                  "可回收物": "recyclable", "空": "empty"}
    assert mine["missing"] == ["kitchen", "other"] and mine["unmapped"] == []

    # before the pick the built-in demo sorter answers: a new bottle is recyclable (blue)
    bottle, peel = _waste("bottle", 60), _waste("banana_peel", 61)   # pictures it never saw
    _show(runtime, lambda t: bottle)
    assert _wait(lambda: _signal(runtime, "bin") == "recyclable"), _signal(runtime, "bin")
    assert _signal(runtime, "mine") == 0

    r = student_client.post(f"/api/labs/runs/{waste_run}/model",
                            json={"detector": "sorter", "project": project.id})
    assert r.status_code == 200, r.get_data(as_text=True)
    body = r.get_json()
    assert body["picked"]["id"] == project.id and body["picked"]["missing"] == ["kitchen", "other"]

    # now the students' model answers: the bottle it never saw goes to hazardous (red LED,
    # servo at the hazardous bin), a banana peel to recyclable (blue)
    assert _wait(lambda: _signal(runtime, "bin") == "hazardous"), _signal(runtime, "bin")
    assert _wait(lambda: _rgb(runtime) == (1, 0, 0)), runtime.kit.rgb.value
    assert abs(runtime.kit.servo.value - 0.22) < 0.02
    assert _signal(runtime, "mine") == 1
    _show(runtime, lambda t: peel)
    assert _wait(lambda: _signal(runtime, "bin") == "recyclable"), _signal(runtime, "bin")
    assert _wait(lambda: _rgb(runtime) == (0, 0, 1)), runtime.kit.rgb.value
    lab = LabRunner.for_runtime(runtime).active
    assert [e.value["project"] for e in lab.log.entries("model")] == [project.id]

    # the report card is the project's held-out test, not the samples it learned from
    report = body["report"]
    saved = project.model["report"]
    assert report["source"] == "project" and report["classes"] == saved["card"]["classes"]
    n_held_out = len(saved["test_samples"])
    assert 0 < n_held_out < project.total
    assert sum(map(sum, report["confusion"])) == report["n_test"] == n_held_out
    hits = sum(report["confusion"][i][i] for i in range(len(report["classes"])))
    assert report["measured"] and abs(report["accuracy"] - hits / n_held_out) < 1e-3
    assert set(report["per_class"]) == {"有害垃圾", "可回收物", "空"}
    assert _wait(lambda: _signal(runtime, "measured") is not None)
    assert abs(_signal(runtime, "accuracy") - report["accuracy"]) < 1e-3

    # back to the demo on request
    r = student_client.post(f"/api/labs/runs/{waste_run}/model",
                            json={"detector": "sorter", "project": None})
    assert r.status_code == 200 and r.get_json()["picked"] is None
    assert _wait(lambda: _signal(runtime, "mine") == 0)


def test_picking_is_refused_for_what_is_not_yours(student_client: Any, runtime: Any,
                                                  waste_run: int, app: Any,
                                                  teacher_client: Any) -> None:
    teacher = teacher_client
    url = f"/api/labs/runs/{waste_run}/model"
    stranger = _second_student(app, runtime, student_client)
    theirs = _project(stranger, runtime, "image", ["可回收物", "其他垃圾"], name="别人的")
    r = student_client.post(url, json={"detector": "sorter", "project": theirs.id})
    assert r.status_code == 403, r.get_data(as_text=True)
    # they see only their own projects in the list, and cannot pick for my run
    listed = [p["id"] for p in
              student_client.get("/api/labs/waste_sorting/models/sorter").get_json()["projects"]]
    assert theirs.id not in listed
    everyone = teacher.get("/api/labs/waste_sorting/models/sorter").get_json()["projects"]
    assert theirs.id in [p["id"] for p in everyone]               # the teacher sees all
    assert student_client.get("/api/labs/waste_sorting/models/bin").status_code == 400
    r = stranger.post(url, json={"detector": "sorter", "project": theirs.id})
    assert r.status_code == 403

    hands = _project(student_client, runtime, "hand", ["张开", "握拳"], name="手势项目")
    r = student_client.post(url, json={"detector": "sorter", "project": hands.id})
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "wrong_kind"
    assert "手势项目" in r.get_json()["error"]["message"]
    untrained = _project(student_client, runtime, "image", ["可回收物", "厨余垃圾"])
    r = student_client.post(url, json={"detector": "sorter", "project": untrained.id})
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "not_trained"
    for body in ({"detector": "nope", "project": untrained.id}, {"project": untrained.id},
                 {"detector": "sorter", "project": 7}):
        assert student_client.post(url, json=body).status_code == 400
    # the teacher may help with any run (here: back to the demo, which it already is)
    r = teacher.post(url, json={"detector": "sorter", "project": None})
    assert r.status_code == 200 and r.get_json()["picked"] is None
    # nothing was picked: the demo still answers, and only the teacher's "demo" was logged
    lab = LabRunner.for_runtime(runtime).active
    assert [e.value["project"] for e in lab.log.entries("model")] == [None]
    assert _wait(lambda: _signal(runtime, "mine") == 0)


def test_taught_gestures_drive_the_remote(student_client: Any, runtime: Any, model_store: Any,
                                          data_dir: Any) -> None:
    from tests.fixtures.oracle.hands_images import render_hand

    def hand(pose: str, i: int) -> np.ndarray:
        rgb = render_hand(pose, scale=68.0 + i, centre=(0.48 + 0.01 * i, 0.62),
                          rotation=-6.0 + 3 * i, background=("light", "wood", "blue")[i % 3],
                          mirror=bool(i % 2))
        return np.ascontiguousarray(rgb[..., ::-1])

    (data_dir / "models").symlink_to(model_store.models_dir, target_is_directory=True)
    project = _project(student_client, runtime, "hand", ["点", "张开"])
    for info in project.classes:
        for i in range(6):
            project.add_sample(info.id, hand("point" if info.name == "点" else "open", i))
    by_name = {c.name: c.id for c in project.classes}
    for name, action in (("张开", {"type": "rgb", "value": "blue"}),
                         ("点", {"type": "buzzer", "value": "C4"})):
        r = student_client.post(f"/api/learn/projects/{project.id}/actions/{by_name[name]}",
                                json=action)
        assert r.status_code == 200, r.get_data(as_text=True)
    tracker = vision_tracker("hand", model_store)
    train_project(project, LandmarkExtractor("hand", tracker))

    palm, point = hand("open", 7), hand("point", 8)      # hands it never saw
    _show(runtime, lambda t: palm)
    r = student_client.post("/api/labs/gesture_remote/start", json={})
    assert r.status_code == 200, r.get_data(as_text=True)
    run_id = int(r.get_json()["run_id"])
    try:
        # the built-in gestures first: an open palm is green
        assert _wait(lambda: _rgb(runtime) == (0, 1, 0)), runtime.kit.rgb.value
        r = student_client.post(f"/api/labs/runs/{run_id}/model",
                                json={"detector": "gestures", "project": project.id})
        assert r.status_code == 200, r.get_data(as_text=True)
        assert r.get_json()["picked"]["colours"]["张开"] == "blue"
        assert r.get_json()["picked"]["buzz"] == ["点"]
        # the taught class and the colour the student chose for it on /learn
        assert _wait(lambda: _signal(runtime, "gesture") == "张开"), _signal(runtime, "gesture")
        assert _wait(lambda: _rgb(runtime) == (0, 0, 1)), runtime.kit.rgb.value
        assert not runtime.kit.buzzer.value
        _show(runtime, lambda t: point)
        assert _wait(lambda: _signal(runtime, "gesture") == "点"), _signal(runtime, "gesture")
        assert _wait(lambda: _signal(runtime, "buzz") == 1), _signal(runtime, "buzz")
        assert _wait(lambda: bool(runtime.kit.buzzer.value))
    finally:
        LabRunner.for_runtime(runtime).stop()


def test_the_gesture_page_keeps_the_hand_overlay_of_its_demo(student_client: Any) -> None:
    import json
    import re

    html = student_client.get("/labs/gesture_remote").get_data(as_text=True)
    assert 'id="part-teachable-gestures"' in html and 'id="part-confusion-gestures"' in html
    config = json.loads(re.search(r'<script type="application/json" id="lab-config">(.*?)</script>',
                                  html, re.S).group(1))
    # the nested demo's hand tracker draws the hand (and keeps drawing it for a taught model)
    assert config["overlays"] == ["hands"]
    assert set(config["overlay_topics"]) == {"vision.teachable", "vision.hands"}


def test_another_students_training_does_not_pass_my_teach_step(student_client: Any,
                                                               runtime: Any, waste_run: int,
                                                               app: Any) -> None:
    """Everyone's /learn events reach the kit's bus; my run's "teach" step passes when a
    project of mine finishes training, not when a classmate's does."""
    def teach_passed() -> bool:
        lab = LabRunner.for_runtime(runtime).active
        return "teach" in lab.passed

    stranger = _second_student(app, runtime, student_client)
    theirs = _project(stranger, runtime, "image", ["可回收物", "其他垃圾"], name="别人的")
    mine = _project(student_client, runtime, "image", ["可回收物", "其他垃圾"], name="我的")
    runtime.bus.publish("learn.progress", {"project": theirs.id, "state": "done",
                                           "fraction": 1.0})
    runtime.bus.publish("learn.progress", {"project": "gone", "state": "done", "fraction": 1.0})
    assert not _wait(teach_passed, timeout=3.0)
    runtime.bus.publish("learn.progress", {"project": mine.id, "state": "done", "fraction": 1.0})
    assert _wait(teach_passed)
