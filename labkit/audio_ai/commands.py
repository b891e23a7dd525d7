"""CommandWords: the teachable command-word recogniser (Chinese first, any language).

No offline Chinese speech recogniser ships on the registry, so the class *teaches* the kit its
words: record 10–20 examples of each word ("开灯", "关灯", "前进", "后退", "停止" …) plus some
background ("other": room noise, chatter, other words), press train, and within seconds the
kit knows them. Each example becomes one fixed-length picture of the word
(`features.clip_features`: energy-trimmed 40-band log-mel, resized to 32 frames, standardised)
and the learn layer's one classifier trainer (`labkit.models.trainable`) fits a small model.

Listening live, the stream is cut into utterances (`segment.Segmenter`); each utterance is
classified, and a word is *heard* only if it is not the background class and its probability
reaches `threshold`. Then `when_heard(word, confidence)` runs and `label_is(word)` sub-devices
go active for `hold` seconds, so actuators follow:

    words = CommandWords(mic)
    words.add_example("开灯", samples) ...; words.train()
    words.label_is("开灯").when_activated = lamp.on
    words.label_is("关灯").when_activated = lamp.off

Recordings stay in memory; nothing is written unless `save()` is called.
"""

from __future__ import annotations

import json
import logging
import time
from collections import deque
from pathlib import Path
from typing import Any

import numpy as np

from labkit.audio_ai.device import UtteranceDetector
from labkit.audio_ai.features import clip_features, speech_bounds
from labkit.audio_ai.level import dbfs
from labkit.audio_ai.segment import EnergyGate, Segmenter, Utterance, VadGate
from labkit.drivers.wav import RATE
from labkit.errors import LabkitError
from labkit.errors import lazy_gettext as _
from labkit.fsutil import atomic_write_bytes, atomic_write_text

log = logging.getLogger(__name__)

BACKGROUND = "_background"
MIN_CLIP_SECONDS = 0.2
MAX_CLIP_SECONDS = 3.0
MAX_EXAMPLES_PER_WORD = 100
MAX_WORDS = 12
QUIET_DBFS = -55.0
AUGMENT_SNR_DB = (20.0, 10.0)


def with_noise(samples: np.ndarray, snr_db: float, rng: np.random.Generator) -> np.ndarray:
    """The clip with white noise at `snr_db` below the clip's loud part (for augmentation)."""
    x = np.asarray(samples, dtype=np.float64)
    bounds = speech_bounds(samples)
    loud = x[bounds[0]:bounds[1]] if bounds else x
    power = float(np.mean(loud * loud)) if loud.size else 0.0
    noise = rng.standard_normal(x.size) * np.sqrt(power / 10 ** (snr_db / 10))
    return np.clip(np.round(x + noise), -32768, 32767).astype(np.int16)


def check_clip(samples: np.ndarray, *, label: str = "") -> np.ndarray:
    """A recorded example as int16; clear errors for empty, too short, silent or overlong clips."""
    x = np.asarray(samples).reshape(-1)
    if x.size == 0:
        raise LabkitError(_("The recording is empty."), code="bad_audio",
                          fix=_("Record again and say the word while the red dot is on."))
    if x.size < MIN_CLIP_SECONDS * RATE:
        raise LabkitError(_("The recording is too short (%(s)s s).", s=f"{x.size / RATE:.2f}"),
                          code="bad_audio",
                          fix=_("Record at least %(s)s s.", s=MIN_CLIP_SECONDS))
    if x.size > MAX_CLIP_SECONDS * RATE * 4:
        raise LabkitError(_("The recording is too long (%(s)s s).", s=f"{x.size / RATE:.1f}"),
                          code="bad_audio", fix=_("Say just the word, then stop."))
    if x.dtype != np.int16:
        x = np.clip(np.round(x), -32768, 32767).astype(np.int16)
    if label != BACKGROUND and dbfs(x) < QUIET_DBFS:
        raise LabkitError(_("The recording is silent: nobody spoke."), code="bad_audio",
                          fix=_("Speak closer to the microphone."))
    return x


class CommandWords(UtteranceDetector):
    """`value` is 1.0 for `hold` seconds after any command word is heard."""

    def __init__(self, mic: Any = None, *, threshold: float = 0.6, hold: float = 1.0,
                 kind: str = "logistic", vad: Any = None, gate: Any = None,
                 pin_factory: Any = None) -> None:
        self.threshold = float(threshold)
        self.kind = kind
        self.examples: dict[str, list[np.ndarray]] = {}
        self._features: dict[str, list[np.ndarray]] = {}
        self.classifier: Any = None       # TrainedClassifier or OnnxClassifier
        self.metrics: dict[str, Any] | None = None
        self.last: dict[str, Any] | None = None    # the latest result, heard or not
        self.history: deque[dict[str, Any]] = deque(maxlen=20)
        self._segmenter = Segmenter(self._on_utterance,
                                    gate=gate or (VadGate(vad) if vad is not None
                                                  else EnergyGate()),
                                    max_seconds=MAX_CLIP_SECONDS)
        super().__init__(mic, hold=hold, pin_factory=pin_factory)

    # -- teaching -----------------------------------------------------------------------------
    @property
    def words(self) -> list[str]:
        """The taught words (without the background class)."""
        return [w for w in self.examples if w != BACKGROUND]

    def counts(self) -> dict[str, int]:
        return {w: len(v) for w, v in self.examples.items()}

    def add_example(self, word: str, samples: np.ndarray) -> int:
        """Keep one recorded example of `word` (in memory); returns how many it now has."""
        word = (word or "").strip()
        if not word:
            raise LabkitError(_("Type the word first."), code="bad_input",
                              fix=_("For example 开灯."))
        if len(word) > 20:
            raise LabkitError(_("The word is too long."), code="bad_input",
                              fix=_("Use at most 20 characters."))
        if word not in self.examples and len(self.words) >= MAX_WORDS and word != BACKGROUND:
            raise LabkitError(_("The kit can learn at most %(n)s words at once.", n=MAX_WORDS),
                              code="bad_input", fix=_("Delete a word first."))
        clip = check_clip(samples, label=word)
        if word == BACKGROUND and clip.size > 2.5 * RATE:
            # a long background recording becomes several 1 s examples
            pieces = [clip[i:i + RATE] for i in range(0, clip.size - RATE // 2, RATE)]
        else:
            pieces = [clip]
        bucket = self.examples.setdefault(word, [])
        feats = self._features.setdefault(word, [])
        for piece in pieces:
            if len(bucket) >= MAX_EXAMPLES_PER_WORD:
                raise LabkitError(_("%(word)s already has %(n)s examples.", word=word,
                                    n=MAX_EXAMPLES_PER_WORD),
                                  code="bad_input", fix=_("Delete some, or train now."))
            bucket.append(piece)
            feats.append(clip_features(piece))
        return len(bucket)

    def remove_word(self, word: str) -> None:
        self.examples.pop(word, None)
        self._features.pop(word, None)

    def remove_example(self, word: str, index: int) -> None:
        try:
            del self.examples[word][index]
            del self._features[word][index]
        except (KeyError, IndexError):
            raise LabkitError(_("There is no such example."), code="not_found",
                              fix=_("Reload the page and try again.")) from None

    def train(self, kind: str | None = None, seed: int = 0) -> dict[str, Any]:
        """Fit the classifier on every example; returns held-out metrics (seconds on the kit)."""
        from labkit.models.trainable import train_classifier

        if not self.words:
            raise LabkitError(_("There are no words to learn yet."), code="too_few_classes",
                              fix=_("Record examples of at least one word and of the "
                                    "background."))
        X, y = [], []
        rng = np.random.default_rng(seed)
        for word, feats in self._features.items():
            X.extend(feats)
            y.extend([word] * len(feats))
            if word == BACKGROUND:
                continue
            # noisy copies teach the model that a word in a noisy room is still the word
            for clip in self.examples[word]:
                for snr in AUGMENT_SNR_DB:
                    X.append(clip_features(with_noise(clip, snr, rng)))
                    y.append(word)
        t0 = time.perf_counter()
        clf = train_classifier(np.stack(X), y, kind=kind or self.kind, seed=seed)
        # the held-out split measured the model; the kit then keeps one trained on everything
        final = train_classifier(np.stack(X), y, kind=kind or self.kind, seed=seed,
                                 test_size=0.05) if len(y) >= 40 else clf
        self.classifier = final
        self.metrics = {"accuracy": clf.metrics["accuracy"], "classes": clf.classes,
                        "confusion": clf.confusion.tolist(), "n_examples": len(y),
                        "seconds": round(time.perf_counter() - t0, 3),
                        "kind": kind or self.kind}
        return self.metrics

    @property
    def trained(self) -> bool:
        return self.classifier is not None

    # -- recognising --------------------------------------------------------------------------
    def classify(self, samples: np.ndarray) -> tuple[str, float, dict[str, float]]:
        """(best class, its probability, all probabilities) for one utterance."""
        if self.classifier is None:
            raise LabkitError(_("The command words are not trained yet."), code="not_trained",
                              fix=_("Record examples and press Train."))
        x = np.asarray(samples).reshape(-1)
        if x.size == 0:
            raise LabkitError(_("The recording is empty."), code="bad_audio",
                              fix=_("Record again and say the word clearly."))
        proba = self.classifier.predict_proba(clip_features(x)[None, :])[0]
        classes = list(self.classifier.classes)
        best = int(np.argmax(proba))
        return classes[best], float(proba[best]), {c: round(float(p), 4)
                                                   for c, p in zip(classes, proba, strict=True)}

    def recognise(self, samples: np.ndarray) -> str | None:
        """The command word in a clip, or None (background, unsure, or not trained)."""
        word, conf, _ = self.classify(samples)
        return word if word != BACKGROUND and conf >= self.threshold else None

    def _on_utterance(self, utt: Utterance) -> None:
        if self.classifier is None:
            return
        t0 = time.perf_counter()
        word, conf, probs = self.classify(utt.samples)
        heard = word != BACKGROUND and conf >= self.threshold
        result = {"word": word if heard else None, "best": word, "confidence": round(conf, 3),
                  "probabilities": probs, "start": round(utt.start, 3), "end": round(utt.end, 3),
                  "ms": round((time.perf_counter() - t0) * 1000, 1)}
        self.last = result
        self.history.append(result)
        if heard:
            self._heard_word(word, conf, utt.end)

    # -- keeping a trained model ---------------------------------------------------------------
    def save(self, folder: str | Path) -> Path:
        """Write the trained model (ONNX + labels + metrics); never the recordings."""
        if self.classifier is None or not hasattr(self.classifier, "to_onnx"):
            raise LabkitError(_("There is no newly trained model to save."), code="not_trained",
                              fix=_("Record examples and press Train."))
        folder = Path(folder)
        atomic_write_bytes(folder / "commands.onnx", self.classifier.to_onnx())
        atomic_write_text(folder / "commands.json", json.dumps(
            {"classes": list(self.classifier.classes), "threshold": self.threshold,
             "metrics": self.metrics, "features": "labkit.audio_ai.features.clip_features/1"},
            ensure_ascii=False, indent=1))
        return folder / "commands.onnx"

    def load(self, folder: str | Path) -> None:
        """Use a model saved with `save()` (runs with ONNX Runtime; no pickle)."""
        from labkit.models.trainable import OnnxClassifier

        folder = Path(folder)
        try:
            meta = json.loads((folder / "commands.json").read_text())
            data = (folder / "commands.onnx").read_bytes()
        except (OSError, ValueError):
            raise LabkitError(_("No saved command words were found."), code="not_found",
                              fix=_("Train and save them first.")) from None
        self.classifier = OnnxClassifier(data, meta["classes"])
        self.metrics = meta.get("metrics")
        self.threshold = float(meta.get("threshold", self.threshold))

    def reading(self) -> dict[str, Any]:
        return {"trained": self.trained, "heard": self.heard, "last": self.last,
                "counts": self.counts(), "threshold": self.threshold,
                "listening": self._segmenter.active}
