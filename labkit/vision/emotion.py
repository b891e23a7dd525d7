"""Emotion guessing on detected faces (fer's int8 model, 7 classes) — and why not to trust it.

    emotions = EmotionClassifier(Camera())
    led.source = emotions.label_is("happy").values

Each face found by FaceDetector is squared, padded a little (like fer does), turned grey,
shrunk to 64×64, scaled to −1…1 and classified into angry, disgust, fear, happy, sad, surprise
or neutral.

Why the page warns about it (ethics lesson material): the model only sees the *outside* of a
face in one frame. People show feelings differently (culture, age, disability, a resting face),
a posed smile is not joy, and the training photos (FER-2013, mostly adults from web searches)
are not the children in front of the camera. It is often wrong, and it must never be used to
judge, grade or watch a person. `ETHICS_NOTE` carries that message for the page.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from labkit.vision.device import VisionDetector, default_store
from labkit.vision.faces import FaceDetector
from labkit.vision.frames import Prepared, to_bgr
from labkit.vision.roi import Roi, crop
from labkit.vision.types import Box

MODEL = "emotion_fer"
#: fer's class order (fer.FER._get_labels)
EMOTIONS = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
#: the model's input is a face with some margin; fer adds 10 px around a Haar box, which is
#: about 10% of a face that size; BlazeFace's box is tighter (brows to chin), so a bit more
MARGIN = 0.2
ETHICS_NOTE = ("Emotion guessing is unreliable: the model only sees the outside of a face in one "
               "picture, people show feelings in different ways, and it learned from photos of "
               "other people. It is often wrong — never use it to judge or watch anyone.")


@dataclass(frozen=True)
class FaceEmotion:
    box: Box
    face_score: float
    emotion: str
    score: float
    scores: dict[str, float]


@dataclass(frozen=True)
class EmotionResult:
    faces: tuple[FaceEmotion, ...]
    width: int
    height: int

    def __len__(self) -> int:
        return len(self.faces)

    @property
    def best(self) -> FaceEmotion | None:
        return max(self.faces, key=lambda f: f.box.area) if self.faces else None


class EmotionClassifier(VisionDetector[EmotionResult]):
    """Guesses an emotion for each face. `label` is the biggest face's emotion, `score` its
    probability; `label_is("happy")` is 1 while that face looks happy to the model."""

    topic = "vision.emotion"
    labels = EMOTIONS

    def __init__(self, camera: Any = None, *, min_face_score: float = 0.5, max_faces: int = 4,
                 store: Any = None, **kwargs: Any) -> None:
        self.store = store if store is not None else default_store()
        self.faces = FaceDetector(store=self.store, min_score=min_face_score,
                                  max_faces=max_faces)
        self.model = self.store.load(MODEL)
        self._in = self.model.inputs[0].name
        self._out = self.model.outputs[0].name
        self._size = int(self.model.inputs[0].shape[1])
        super().__init__(camera, **kwargs)

    def classify_face(self, gray: np.ndarray, box: Box) -> np.ndarray:
        """Class probabilities for the face in `box` of a grey image."""
        side = max(box.w, box.h) * (1.0 + 2 * MARGIN)
        cx, cy = box.center
        tensor, _, _ = crop(gray, Roi(cx, cy, side, side), self._size, self._size,
                            keep_aspect=False, value_range=(-1.0, 1.0), border="zero")
        probs = self.model.run({self._in: tensor[..., None]})[self._out][0].astype(np.float64)
        total = probs.sum()
        if not 0.99 < total < 1.01:   # logits from some builds: make them probabilities
            e = np.exp(probs - probs.max())
            probs = e / e.sum()
        return probs

    def _detect(self, frame: Prepared) -> EmotionResult:
        found = self.faces._detect(frame)
        gray = cv2.cvtColor(frame.image, cv2.COLOR_BGR2GRAY)
        sx, sy = frame.image.shape[1] / frame.size[0], frame.image.shape[0] / frame.size[1]
        out = []
        for face in found.faces:
            box = face.box
            local = Box(box.x * sx, box.y * sy, box.w * sx, box.h * sy)
            probs = self.classify_face(gray, local)
            i = int(np.argmax(probs))
            out.append(FaceEmotion(box, face.score, EMOTIONS[i], float(probs[i]),
                                   {e: round(float(p), 4) for e, p in zip(EMOTIONS, probs,
                                                                          strict=True)}))
        return EmotionResult(tuple(out), frame.size[0], frame.size[1])

    def summary(self, result: EmotionResult) -> tuple[int, str, float]:
        best = result.best
        return (len(result.faces), best.emotion if best else "", best.score if best else 0.0)

    def close(self) -> None:
        self.faces.close()
        super().close()

    @staticmethod
    def draw(frame: Any, result: EmotionResult) -> np.ndarray:
        image = to_bgr(frame).copy()
        for f in result.faces:
            x0, y0, x1, y1 = f.box.int_xyxy()
            cv2.rectangle(image, (x0, y0), (x1, y1), (255, 160, 0), 2)
            cv2.putText(image, f"{f.emotion}? {f.score:.2f}", (x0, max(12, y0 - 6)),
                        cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 160, 0), 1, cv2.LINE_AA)
        return image
