"""A student's /learn sound project as a lab's command-word recogniser.

No offline Chinese speech recogniser exists, so the Chinese commands of a lab are the words a
student taught on /learn (开灯, 关灯, 开风扇 …, with the project's background class: the room
and other talk). Once a project is picked for the run (`use_project`), every utterance the
microphone stream is cut into is classified by that project's trained model; a class is
*heard* when it is not the background class and its probability reaches `threshold`. The
lab's names for what the outputs follow (`classes:` target → the class names it accepts, in
Chinese and English, compared as /learn compares names) keep its bindings fixed whatever a
student called the classes:

    uses:
      mine: {detector: sound_words, hold: 3,
             classes: {开灯: [开灯, 开], 关灯: [关灯, 关], 开风扇: [开风扇, 风扇]}}
    bindings:
      led.source: mine.switch(开灯, 关灯)

The student picks the project on the lab page's `teachable` part (`parts: [{part: teachable,
detector: mine}]`, labkit/web/lab_models.py), as for the camera's teachable detector. Until
then the detector hears nothing (`ready` is 0) and the part tells the student how to make
one. It is an `UtteranceDetector` like the English grammar commands, so the trials part
(labkit/projects/trials.py) counts its false triggers the same way.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from typing import Any

import numpy as np

from labkit.audio_ai.device import UtteranceDetector
from labkit.audio_ai.segment import EnergyGate, Segmenter, Utterance

DEFAULT_THRESHOLD = 0.6


class SoundWords(UtteranceDetector):
    """`value` is 1.0 for `hold` seconds after a taught word is heard."""

    def __init__(self, mic: Any = None, *, classes: dict[str, list[str]] | None = None,
                 threshold: float = DEFAULT_THRESHOLD, hold: float = 1.0, gate: Any = None,
                 store: Any = None, pin_factory: Any = None) -> None:
        if not 0.0 < float(threshold) < 1.0:
            raise ValueError("threshold must be between 0 and 1")
        self.threshold = float(threshold)
        self.store = store
        self.targets = {str(t): [str(a) for a in (names or ())]
                        for t, names in (classes or {}).items()}
        self.predictor: Any = None
        self.background = ""
        self.mapped: dict[str, str] = {}
        self.project: dict[str, Any] | None = None
        self.last: dict[str, Any] | None = None
        self.history: deque[dict[str, Any]] = deque(maxlen=20)
        self._pick_lock = threading.Lock()
        self._segmenter = Segmenter(self._on_utterance, gate=gate or EnergyGate(),
                                    max_seconds=3.0)
        super().__init__(mic, hold=hold, pin_factory=pin_factory)

    # -- choosing the project -----------------------------------------------------------------
    def use_project(self, project: Any) -> dict[str, Any] | None:
        """Hear with `project`'s trained model from the next utterance on (None: nothing
        again). Another kind of project, or one never trained, is a clear LabkitError and
        changes nothing (labkit.learn.teachable: the camera's teachable detector picks the
        same way). Returns the project's id, name and how its classes were matched."""
        if project is None:
            with self._lock:
                self.predictor, self.project, self.mapped = None, None, {}
            return None
        from labkit.learn.teachable import check_pickable, match_classes

        check_pickable(project, "sound")
        from labkit.learn.background import background_class
        from labkit.learn.model import Predictor

        with self._pick_lock:
            predictor = Predictor(project, store=self.store)
        room = background_class(project)
        words = [c for c in predictor.classes if room is None or c != room.name]
        match = match_classes(words, self.targets or None, optional=())
        with self._lock:
            self.predictor = predictor
            self.background = room.name if room is not None else ""
            self.mapped = dict(match["mapped"])
            self.project = {"id": project.id, "name": project.name, **match}
        return dict(self.project)

    @property
    def ready(self) -> int:
        """1 once a trained project listens (0: nothing is heard yet)."""
        return 1 if self.predictor is not None else 0

    # -- hearing ------------------------------------------------------------------------------
    def _on_utterance(self, utt: Utterance) -> None:
        predictor = self.predictor
        if predictor is None:
            return
        t0 = time.perf_counter()
        answer = predictor.predict(np.asarray(utt.samples))
        best = answer.get("label") or ""
        confidence = float(answer.get("confidence") or 0.0)
        word = self.mapped.get(best) if best and best != self.background else None
        heard = word is not None and confidence >= self.threshold
        result = {"word": word if heard else None, "best": best,
                  "confidence": round(confidence, 3), "start": round(utt.start, 3),
                  "end": round(utt.end, 3), "ms": round((time.perf_counter() - t0) * 1000, 1)}
        self.last = result
        self.utterances += 1
        self.history.append(result)
        if heard:
            assert word is not None
            self._heard_word(word, confidence, utt.end)

    def reading(self) -> dict[str, Any]:
        return {"ready": bool(self.ready), "project": self.project, "heard": self.heard,
                "last": self.last, "threshold": self.threshold}
