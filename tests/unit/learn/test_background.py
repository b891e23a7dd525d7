"""Sound projects always have a background class, and word classes refuse silent clips.

The issue's case: a project taught only words answered "开始 96%" in a silent room. Here a
project taught two words (espeak-ng, pinyin voice) answers its background class in silence and
in quiet room noise, and still hears the words.
"""

from __future__ import annotations

import numpy as np
import pytest

from labkit.errors import LabkitError
from labkit.learn.background import (MIN_BACKGROUND, SILENT_DBFS, background_class,
                                     ensure_background, generated_clip, loudest_dbfs)
from labkit.learn.dataset import ProjectStore
from labkit.learn.features import SoundExtractor
from labkit.learn.model import Predictor, train_project
from tests.unit.audio.conftest import _speech, add_noise, pad, room

WORDS = ["开始", "停止"]


def _room(seconds: float, dbfs: float, seed: int) -> np.ndarray:
    return np.clip(np.round(room(seconds, dbfs, seed)), -32768, 32767).astype(np.int16)


def test_a_sound_project_is_made_with_its_background_class(tmp_path) -> None:
    store = ProjectStore(tmp_path / "kit")
    p = store.create("口令", "sound", ["开灯"])            # one word is enough: word vs room
    assert [c.role for c in p.classes] == ["", "background"]
    bg = background_class(p)
    assert bg is not None and bg.name == "background"
    with pytest.raises(LabkitError) as exc:
        p.remove_class(bg.id)
    assert exc.value.code == "background_class"
    # it survives a restart and a repair
    again = ProjectStore(tmp_path / "kit").get(p.id)
    assert background_class(again).id == bg.id
    assert background_class(ProjectStore(tmp_path / "kit").repair(p.id)).id == bg.id
    # image projects have none
    assert background_class(store.create("图", "image", ["a", "b"])) is None
    with pytest.raises(LabkitError) as exc:
        store.create("口令", "sound", ["a", "b", "c", "d", "e", "f"])   # 6 words + background
    assert exc.value.code == "too_many_classes"


def test_word_classes_refuse_silence_the_background_takes_it(tmp_path) -> None:
    p = ProjectStore(tmp_path / "kit").create("口令", "sound", WORDS)
    word, bg = p.classes[0], background_class(p)
    for quiet in (np.zeros(16000, np.int16), _room(1.0, -60.0, 1)):
        with pytest.raises(LabkitError) as exc:
            p.add_sample(word.id, quiet)
        assert exc.value.code == "silent" and "dBFS" in exc.value.message
        p.add_sample(bg.id, quiet)
    assert len(word.samples) == 0 and len(bg.samples) == 2
    assert not any((p.class_dir(word.id)).glob("*.wav"))              # nothing written
    # a short word in a long quiet clip is still a sound (loudest 100 ms, not the mean)
    said = pad(_speech("开始", "zh_CN", "m3", 150, 50), 1.5, 1.5)
    assert loudest_dbfs(said) > SILENT_DBFS
    p.add_sample(word.id, said)
    from labkit.drivers.wav import wav_bytes

    with pytest.raises(LabkitError):
        p.add_upload(word.id, wav_bytes(np.zeros(8000, np.int16)), "quiet.wav")
    assert len(word.samples) == 1


def test_generated_background_is_deterministic_and_quiet() -> None:
    clips = [generated_clip(i) for i in range(12)]
    assert all(np.array_equal(c, generated_clip(i)) for i, c in enumerate(clips))
    levels = [loudest_dbfs(c) for c in clips]
    assert max(levels) < SILENT_DBFS + 10 and min(levels) == -100.0   # digital silence too
    assert len({round(v) for v in levels}) >= 5


def test_words_project_answers_background_in_silence(tmp_path) -> None:
    p = ProjectStore(tmp_path / "kit").create("口令", "sound", WORDS)
    ids = {c.name: c.id for c in p.classes}
    voices = [(v, s) for v in ("m1", "f2") for s in (130, 165)]
    for w in WORDS:
        for i, (v, s) in enumerate(voices):
            p.add_sample(ids[w], add_noise(pad(_speech(w, "zh_CN", v, s, 50), 0.2, 0.2), 30, i))
    bg = background_class(p)
    assert len(bg.samples) == 0
    assert ensure_background(p) == MIN_BACKGROUND                  # generated, stored
    assert ensure_background(p) == 0
    assert {s.source for s in bg.samples} == {"generated"}
    train_project(p, SoundExtractor(), classifier="logistic")
    predictor = Predictor(p)
    for quiet in (np.zeros(16000, np.int16), _room(1.0, -60.0, 9), _room(1.5, -50.0, 3)):
        got = predictor.predict(quiet)
        assert got["label"] == bg.name, got
    for w in WORDS:
        clip = add_noise(pad(_speech(w, "zh_CN", "m5", 150, 50), 0.3, 0.3), 25, 77)
        assert predictor.predict(clip)["label"] == w


@pytest.mark.slow        # ~20 s idle: espeak clips and the speech embedding of each
def test_with_the_speech_embedding_silence_is_background_too(tmp_path, model_store) -> None:
    from labkit.learn.features import SpeechEmbeddingExtractor, extractor_for

    extractor = extractor_for("sound", store=model_store)
    assert isinstance(extractor, SpeechEmbeddingExtractor)
    p = ProjectStore(tmp_path / "kit").create("口令", "sound", WORDS)
    ids = {c.name: c.id for c in p.classes}
    for w in WORDS:
        for i, (v, s) in enumerate((v, s) for v in ("m1", "f2") for s in (130, 165)):
            p.add_sample(ids[w], add_noise(pad(_speech(w, "zh_CN", v, s, 50), 0.2, 0.2), 30, i))
    ensure_background(p)
    train_project(p, extractor)
    predictor = Predictor(p, store=model_store)
    bg = background_class(p).name
    for quiet in (np.zeros(16000, np.int16), _room(1.0, -60.0, 9), _room(1.5, -50.0, 3)):
        assert predictor.predict(quiet)["label"] == bg
    for w in WORDS:
        clip = add_noise(pad(_speech(w, "zh_CN", "m5", 150, 50), 0.3, 0.3), 25, 77)
        assert predictor.predict(clip)["label"] == w
