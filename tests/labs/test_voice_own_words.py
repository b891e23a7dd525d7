"""The voice lab with the students' own Chinese words: a tiny /learn sound project (开灯, 关灯
and the room, espeak-ng voices, trained with the real trainer) is picked for the running run
through the lab page's teachable part (`/api/labs/runs/<run>/model`), and a voice it never
heard switches the LED on with 开灯 and off with 关灯. Refusals are the picker's own
(tests/labs/test_teachable_labs.py); here: a sound detector takes only a trained sound
project.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from labkit.learn.background import ensure_background
from labkit.learn.features import extractor_for
from labkit.learn.model import train_project
from labkit.projects.runner import LabRunner
from tests.unit.audio.conftest import _speech, add_noise, pad
from tests.helpers import wait_until

WORDS = ["开灯", "关灯"]


def _wait(predicate: Callable[[], bool], timeout: float = 20.0) -> bool:
    return wait_until(predicate, timeout)


def _clip(word: str, voice: str, speed: int, seed: int) -> np.ndarray:
    return add_noise(pad(_speech(word, "zh_CN", voice, speed, 50), 0.2, 0.2), 30, seed)


def _signal(runtime: Any, name: str) -> Any:
    lab = LabRunner.for_runtime(runtime).active
    entry = lab.log.last(name) if lab is not None else None
    return None if entry is None else entry.value


def test_our_own_words_switch_the_led_once_our_project_is_picked(student_client: Any,
                                                                 runtime: Any) -> None:
    r = student_client.post("/api/learn/projects",
                            json={"name": "我们的口令", "kind": "sound", "classes": WORDS})
    assert r.status_code == 201, r.get_data(as_text=True)
    project = runtime.services["learn"].projects.get(r.get_json()["id"])
    r = student_client.post("/api/learn/projects",
                            json={"name": "水果", "kind": "image", "classes": ["苹果", "香蕉"]})
    fruit = r.get_json()["id"]
    ids = {c.name: c.id for c in project.classes}
    # the voices and speeds of tests/unit/learn/test_sound_projects.py (espeak is cached)
    for w in WORDS:
        for i, (voice, speed) in enumerate((v, s) for v in ("m1", "m3") for s in (130, 160)):
            project.add_sample(ids[w], _clip(w, voice, speed, i))
    ensure_background(project)
    train_project(project, extractor_for("sound", store=None))    # log-mel: no model needed
    led = runtime.kit.device("led")
    r = student_client.post("/api/labs/voice_commands/start", json={})
    assert r.status_code == 200, r.get_data(as_text=True)
    run_id = int(r.get_json()["run_id"])
    try:
        assert _wait(lambda: _signal(runtime, "mine_ready") is not None)
        assert _signal(runtime, "mine_ready") == 0            # nothing picked: it hears nothing
        r = student_client.post(f"/api/labs/runs/{run_id}/model",
                                json={"detector": "mine", "project": fruit})
        assert r.status_code == 400 and r.get_json()["error"]["code"] == "wrong_kind"
        r = student_client.post(f"/api/labs/runs/{run_id}/model",
                                json={"detector": "mine", "project": project.id})
        assert r.status_code == 200, r.get_data(as_text=True)
        picked = r.get_json()["picked"]
        assert picked["mapped"] == {"开灯": "开灯", "关灯": "关灯"}
        assert set(picked["missing"]) == {"开风扇", "关风扇"}          # the page says so
        assert _wait(lambda: _signal(runtime, "mine_ready") == 1)
        runtime.microphone.inject(pad(_clip("开灯", "f3", 150, 90), 0.3, 0.8))
        assert _wait(lambda: _signal(runtime, "mine_heard") == "开灯")
        assert _wait(lambda: led.value == 1)
        runtime.microphone.inject(pad(_clip("关灯", "f3", 150, 91), 0.3, 0.8))
        assert _wait(lambda: _signal(runtime, "mine_heard") == "关灯")
        assert _wait(lambda: led.value == 0)            # once the grammar's hold ran out too
    finally:
        student_client.post(f"/api/labs/runs/{run_id}/stop", json={})
