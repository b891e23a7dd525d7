"""A /learn sound project hears voices it was never taught (speech embedding), and falls back
to log-mel features when the embedding is not installed."""

from __future__ import annotations

import numpy as np
import pytest

from labkit.learn.background import ensure_background
from labkit.learn.dataset import ProjectStore
from labkit.learn.features import SoundExtractor, SpeechEmbeddingExtractor, extractor_for
from labkit.learn.model import Predictor, train_project
from tests.unit.audio.conftest import _speech, add_noise, pad

WORDS = ["开灯", "关灯", "开始"]


def test_without_the_embedding_the_log_mel_features_are_used() -> None:
    assert isinstance(extractor_for("sound", store=None), SoundExtractor)


@pytest.mark.slow        # ~20 s here: 36 espeak clips and their embeddings
def test_sound_project_recognises_new_voices(tmp_path, model_store) -> None:
    extractor = extractor_for("sound", store=model_store)
    assert isinstance(extractor, SpeechEmbeddingExtractor)
    project = ProjectStore(tmp_path / "learn").create("口令", "sound", WORDS)
    ids = {c.name: c.id for c in project.classes}
    for w in WORDS:
        for i, (v, s) in enumerate((v, s) for v in ("m1", "m3", "m5") for s in (130, 160)):
            project.add_sample(ids[w], add_noise(pad(_speech(w, "zh_CN", v, s, 50), 0.2, 0.2),
                                                 30, i))
    ensure_background(project)     # as the service does before every training
    report = train_project(project, extractor)
    assert report.card["input"]["name"] == "speech_embedding/1"
    predictor = Predictor(project, store=model_store)
    names = [c.name for c in project.classes]
    right = total = 0
    for w in WORDS:
        for i, (v, s) in enumerate((v, s) for v in ("f1", "f3") for s in (140, 165)):
            clip = add_noise(pad(_speech(w, "zh_CN", v, s, 50), 0.3, 0.3), 10, 50 + i)
            right += names[int(np.argmax(predictor.predict_proba([clip])[0]))] == w
            total += 1
    print(f"\n[learn] sound project, female voices at 10 dB: {right}/{total}; card says "
          f"{report.card['accuracy']} on {report.card['n_test']} held-out clips")
    assert right / total >= 0.8
