"""A student's trained /learn sound project as a lab's command-word recogniser
(labkit/learn/sound_words.py): it hears nothing until the project is picked, then the taught
words, matched to the lab's targets by name, switch an output on and off; a project of the
wrong kind or never trained is refused with a clear error."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from labkit.errors import LabkitError
from labkit.learn.background import ensure_background
from labkit.learn.dataset import ProjectStore
from labkit.learn.features import extractor_for
from labkit.learn.model import train_project
from labkit.learn.sound_words import SoundWords
from tests.unit.audio.conftest import _speech, add_noise, pad

WORDS = ["开灯", "关灯"]
TARGETS = {"开灯": ["开灯", "亮灯"], "关灯": ["关灯"], "开风扇": ["开风扇"]}


def _clip(word: str, voice: str, speed: int, seed: int) -> np.ndarray:
    return add_noise(pad(_speech(word, "zh_CN", voice, speed, 50), 0.2, 0.2), 30, seed)


@pytest.fixture(scope="module")
def trained(tmp_path_factory: Any) -> Any:
    store = ProjectStore(tmp_path_factory.mktemp("learn"))
    project = store.create("我们的口令", "sound", WORDS)
    ids = {c.name: c.id for c in project.classes}
    for w in WORDS:
        # the voices and speeds of tests/unit/learn/test_sound_projects.py (espeak is cached)
        for i, (voice, speed) in enumerate((v, s) for v in ("m1", "m3") for s in (130, 160)):
            project.add_sample(ids[w], _clip(w, voice, speed, i))
    ensure_background(project)
    train_project(project, extractor_for("sound", store=None))   # log-mel: no model needed
    return store, project


def test_the_picked_project_switches_the_lamp(trained: Any) -> None:
    _store, project = trained
    words = SoundWords(classes=TARGETS, hold=3.0)
    lamp = words.switch("开灯", "关灯")
    said = np.concatenate([pad(_clip("开灯", "f3", 150, 90), 0.5, 1.0),
                           pad(_clip("关灯", "f3", 150, 91), 0.5, 1.0)])
    try:
        words.process(said)                          # nothing picked: nothing is heard
        assert words.ready == 0 and words.heard_count == 0 and lamp.value == 0
        picked = words.use_project(project)
        assert picked is not None and picked["name"] == "我们的口令"
        assert picked["mapped"] == {"开灯": "开灯", "关灯": "关灯"}
        assert picked["missing"] == ["开风扇"] and picked["unmapped"] == []
        half = int(said.size / 2)
        words.process(said[:half])
        assert words.label == "开灯" and lamp.value == 1   # a voice it never heard
        words.process(said[half:])
        words.flush()
        assert lamp.value == 0 and [h["word"] for h in words.history] == ["开灯", "关灯"]
        assert words.utterances == 2 and words.heard_count == 2
        words.use_project(None)
        assert words.ready == 0
    finally:
        words.close()


def test_a_project_that_cannot_listen_is_refused(trained: Any) -> None:
    store, _project = trained
    words = SoundWords()
    try:
        images = store.create("水果", "image", ["苹果", "香蕉"])
        with pytest.raises(LabkitError) as wrong:
            words.use_project(images)
        assert wrong.value.code == "wrong_kind"
        untrained = store.create("新口令", "sound", ["开灯"])
        with pytest.raises(LabkitError) as raw:
            words.use_project(untrained)
        assert raw.value.code == "not_trained" and words.ready == 0
    finally:
        words.close()
    with pytest.raises(ValueError):
        SoundWords(threshold=1.5)
