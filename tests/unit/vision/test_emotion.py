"""EmotionClassifier: fer's int8 model on BlazeFace faces (no oracle: fer needs TensorFlow)."""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np
import pytest

from labkit.vision.emotion import EMOTIONS
from tests.unit.vision.conftest import oracle_images


@pytest.fixture(scope="module")
def emotions(model_store: Any) -> Any:
    from labkit.vision import EmotionClassifier

    det = EmotionClassifier(store=model_store)
    yield det
    det.close()


def test_labels_match_the_store(model_store: Any) -> None:
    assert tuple(model_store.info("emotion_fer").labels) == EMOTIONS


def test_the_smiling_astronaut_looks_happy(emotions: Any) -> None:
    bgr = cv2.cvtColor(oracle_images.image("astronaut"), cv2.COLOR_RGB2BGR)
    result = emotions.detect(bgr)
    assert len(result.faces) == 1
    face = result.faces[0]
    assert face.emotion == "happy" and face.score > 0.8
    assert set(face.scores) == set(EMOTIONS) and sum(face.scores.values()) == pytest.approx(1, abs=0.01)
    assert emotions.label.value == "happy" and emotions.label_is("happy").value == 1


def test_same_answer_as_fers_own_preprocessing(emotions: Any) -> None:
    """fer's recipe (square box, 10 px margin, 40 px zero padding, cv2.resize to 64×64,
    (x/255 − 0.5)·2) on the same face box gives the same top emotion as ours."""
    bgr = cv2.cvtColor(oracle_images.image("astronaut"), cv2.COLOR_RGB2BGR)
    box = emotions.detect(bgr).faces[0].box
    gray = cv2.copyMakeBorder(cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY), 40, 40, 40, 40,
                              cv2.BORDER_CONSTANT, value=0)
    side = int(max(box.w, box.h))
    x = int(box.center[0] - side / 2) - 10 + 40
    y = int(box.center[1] - side / 2) - 10 + 40
    face = cv2.resize(gray[y:y + side + 20, x:x + side + 20], (64, 64))
    x_in = ((face.astype(np.float32) / 255.0 - 0.5) * 2.0)[None, :, :, None]
    model = emotions.model
    probs = model.run({model.inputs[0].name: x_in})[model.outputs[0].name][0]
    assert EMOTIONS[int(np.argmax(probs))] == emotions.result.faces[0].emotion


def test_no_face_no_emotion(emotions: Any) -> None:
    result = emotions.detect(cv2.cvtColor(oracle_images.image("chelsea"), cv2.COLOR_RGB2BGR))
    assert result.faces == () and emotions.label.value == "" and emotions.value == 0
