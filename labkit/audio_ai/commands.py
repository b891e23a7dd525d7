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
AUGMENT_SNR_DB = 10.0           # the noise level of a busy classroom (tests use the same)
LOG_MEL_FEATURES = "labkit.audio_ai.features.clip_features/1"
#: an accepted word must beat this many held-out background/other-word clips (share)
FALSE_TRIGGER_GOAL = 0.05
THRESHOLD_RANGE = (0.35, 0.9)
#: a taught word must still be accepted on at least this share of held-out clips
HIT_GOAL = 0.9
GENERATED_NOISE_DBFS = (-60.0, -45.0, -30.0)


def babble(clips: list[np.ndarray], seconds: float, rng: np.random.Generator) -> np.ndarray:
    """Several other voices talking at once: a few clips summed at random offsets."""
    n = int(seconds * RATE)
    out = np.zeros(n, np.float64)
    if not clips:
        return out
    for _voice in range(4):
        c = np.asarray(clips[int(rng.integers(len(clips)))], np.float64)
        start = int(rng.integers(-c.size // 2, max(1, n - c.size // 2)))
        lo, hi = max(0, start), min(n, start + c.size)
        if hi > lo:
            out[lo:hi] += c[lo - start:hi - start]
    return out


def mix_at(clip: np.ndarray, noise: np.ndarray, snr_db: float) -> np.ndarray:
    """`noise` (tiled/cut to the clip) mixed `snr_db` below the clip's loud part."""
    x = np.asarray(clip, dtype=np.float64)
    bounds = speech_bounds(clip)
    loud = x[bounds[0]:bounds[1]] if bounds else x
    power = float(np.mean(loud * loud)) if loud.size else 0.0
    nz = np.resize(np.asarray(noise, np.float64), x.size)
    n_power = float(np.mean(nz * nz))
    if n_power <= 0 or power <= 0:
        return np.asarray(clip, np.int16)
    gain = np.sqrt(power / 10 ** (snr_db / 10) / n_power)
    return np.clip(np.round(x + gain * nz), -32768, 32767).astype(np.int16)


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

    def __init__(self, mic: Any = None, *, threshold: float | None = None, hold: float = 1.0,
                 kind: str = "logistic", vad: Any = None, gate: Any = None,
                 store: Any = None, embedder: Any = None,
                 pin_factory: Any = None) -> None:
        """`threshold`: fixed minimum confidence; None = calibrated at each training from
        held-out clips (see `train`). `store`: the model store with the speech embedding
        (labkit.audio_ai.embedding); without it the log-mel features are used."""
        from labkit.audio_ai.embedding import FEATURES_NAME, SpeechEmbedder

        self.fixed_threshold = None if threshold is None else float(threshold)
        self.threshold = 0.6 if threshold is None else float(threshold)
        self.kind = kind
        self.embedder = embedder if embedder is not None else SpeechEmbedder.from_store(store)
        self.features_name = FEATURES_NAME if self.embedder is not None else LOG_MEL_FEATURES
        self.examples: dict[str, list[np.ndarray]] = {}
        self._features: dict[str, list[np.ndarray]] = {}
        self._groups: dict[str, list[str]] = {}
        self._recordings = 0
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

    def vector(self, samples: np.ndarray) -> np.ndarray:
        """The features of one clip: the speech embedding, or log-mel without it."""
        if self.embedder is not None:
            return self.embedder.clip_vector(samples)
        return clip_features(samples)

    def add_example(self, word: str, samples: np.ndarray, *, group: str | None = None) -> int:
        """Keep one recorded example of `word` (in memory); returns how many it now has.

        `group` names the speaker or session when it is known, so evaluation holds a whole
        voice out; pieces of one long background recording always share one group."""
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
        groups = self._groups.setdefault(word, [])
        self._recordings += 1
        recording = f"{word}/{group}" if group else f"recording-{self._recordings}"
        for piece in pieces:
            if len(bucket) >= MAX_EXAMPLES_PER_WORD:
                raise LabkitError(_("%(word)s already has %(n)s examples.", word=word,
                                    n=MAX_EXAMPLES_PER_WORD),
                                  code="bad_input", fix=_("Delete some, or train now."))
            bucket.append(piece)
            feats.append(self.vector(piece))
            groups.append(recording)
        return len(bucket)

    def remove_word(self, word: str) -> None:
        self.examples.pop(word, None)
        self._features.pop(word, None)
        self._groups.pop(word, None)

    def remove_example(self, word: str, index: int) -> None:
        try:
            del self.examples[word][index]
            del self._features[word][index]
            del self._groups[word][index]
        except (KeyError, IndexError):
            raise LabkitError(_("There is no such example."), code="not_found",
                              fix=_("Reload the page and try again.")) from None

    def train(self, kind: str | None = None, seed: int = 0) -> dict[str, Any]:
        """Measure on held-out recordings, then fit on every example; returns the figures.

        Augmentation (made from training rows only, labkit.models.trainable): each word also
        in white noise, in babble made of the other training clips, and over the room's own
        background recordings, all at 10 dB; the background class gains generated room noise
        (white and pink, −60…−30 dBFS) and babble. The acceptance threshold (unless fixed) is
        calibrated on the held-out clips: the lowest confidence at which at most 5% of
        held-out background/other-word clips would fire a word, lowered if needed so that 90%
        of the held-out words said right still pass, within 0.35–0.9.
        """
        from labkit.models.trainable import train_classifier

        if not self.words:
            raise LabkitError(_("There are no words to learn yet."), code="too_few_classes",
                              fix=_("Record examples of at least one word and of the "
                                    "background."))
        X, y, groups, clips = [], [], [], []
        for word, feats in self._features.items():
            X.extend(feats)
            y.extend([word] * len(feats))
            groups.extend(self._groups[word])
            clips.extend(self.examples[word])
        cache: dict[int, list[tuple[np.ndarray, str]]] = {}

        def augment(rows: np.ndarray) -> tuple[np.ndarray, list[str]]:
            speech = [clips[r] for r in rows if y[r] != BACKGROUND]
            room = [clips[r] for r in rows if y[r] == BACKGROUND]
            out_x, out_y = [], []
            for r in rows:
                if r not in cache:
                    # babble and background come from `rows` only, so the held-out fit never
                    # hears a test clip; its copies stay valid for the final fit on everything
                    rng = np.random.default_rng([seed, int(r)])
                    cache[r] = self._copies(clips[r], y[r], speech, room, rng)
                for vec, label in cache[r]:
                    out_x.append(vec)
                    out_y.append(label)
            for vec in generated_background():
                out_x.append(vec)
                out_y.append(BACKGROUND)
            return (np.stack(out_x) if out_x else np.zeros((0, len(X[0])))), out_y

        generated: list[np.ndarray] = []

        def generated_background() -> list[np.ndarray]:
            """Room-like noise at several levels: the background class knows a quiet room
            even when its only recording of the room is held out."""
            if not generated:
                rng = np.random.default_rng([seed, 7])
                for level in GENERATED_NOISE_DBFS:
                    white = rng.standard_normal(RATE)
                    pink = np.cumsum(rng.standard_normal(RATE))
                    pink -= np.convolve(pink, np.ones(400) / 400, mode="same")
                    for noise in (white, pink):
                        noise = noise / (np.sqrt(np.mean(noise ** 2)) + 1e-9)
                        clip = noise * 32767 * 10 ** (level / 20)
                        generated.append(self.vector(np.clip(np.round(clip), -32768, 32767)
                                                     .astype(np.int16)))
            return generated

        t0 = time.perf_counter()
        clf = train_classifier(np.stack(X), y, kind=kind or self.kind, seed=seed,
                               groups=groups, augment=augment)
        self.classifier = clf
        self.threshold = self._calibrated_threshold(clf, y)
        m = clf.metrics
        self.metrics = {"accuracy": m["accuracy"], "measured": m["measured"],
                        "classes": clf.classes, "confusion": clf.confusion.tolist(),
                        "n_examples": len(y), "n_test": m["n_test"], "n_fit": m["n_fit"],
                        "per_class": m["per_class"], "warnings": m["warnings"],
                        "chance": m["chance"], "threshold": round(self.threshold, 3),
                        "threshold_calibrated": self.fixed_threshold is None,
                        "features": self.features_name,
                        "seconds": round(time.perf_counter() - t0, 3),
                        "kind": kind or self.kind}
        return self.metrics

    def _copies(self, clip: np.ndarray, label: str, speech: list[np.ndarray],
                room: list[np.ndarray], rng: np.random.Generator
                ) -> list[tuple[np.ndarray, str]]:
        others = [c for c in speech if c is not clip]
        if label == BACKGROUND:
            # the background class also learns generated noise and far-off chatter
            noise = rng.standard_normal(clip.size) * 300.0
            return [(self.vector(np.clip(np.asarray(clip, np.float64) + noise, -32768, 32767)
                                 .astype(np.int16)), BACKGROUND),
                    (self.vector(mix_at(clip, babble(others, clip.size / RATE, rng), 0.0)),
                     BACKGROUND)]
        out = [(self.vector(with_noise(clip, AUGMENT_SNR_DB, rng)), label)]
        if others:
            for snr in (AUGMENT_SNR_DB, AUGMENT_SNR_DB - 5):
                out.append((self.vector(mix_at(clip, babble(others, clip.size / RATE, rng),
                                               snr)), label))
        if room:
            bg = np.concatenate([room[int(rng.integers(len(room)))] for _ in range(3)])
            out.append((self.vector(mix_at(clip, bg, AUGMENT_SNR_DB)), label))
        return out

    def _calibrated_threshold(self, clf: Any, y: list[str]) -> float:
        """The lowest threshold with ≤ 5% held-out false triggers (see `train`)."""
        if self.fixed_threshold is not None:
            return self.fixed_threshold
        held = getattr(clf, "held_out_pipeline", None)
        test = getattr(clf, "test_indices", np.zeros(0, np.int64))
        if held is None or not len(test) or BACKGROUND not in clf.classes:
            return 0.6
        from labkit.models.evaluation import calibrate

        X = np.stack([f for w in self._features for f in self._features[w]])
        proba = calibrate(held.predict_proba(X[test]), clf.calibration)
        bg = clf.classes.index(BACKGROUND)
        best = proba.argmax(axis=1)
        truth = np.array([clf.classes.index(y[i]) for i in test])
        negative = truth == bg
        # the threshold that keeps false triggers of held-out background clips ≤ 5% …
        fires = np.sort(proba[negative & (best != bg)].max(axis=1))[::-1]
        allowed = int(np.floor(FALSE_TRIGGER_GOAL * negative.sum()))
        t_quiet = float(fires[allowed]) + 1e-3 if allowed < len(fires) else THRESHOLD_RANGE[0]
        # … unless that would drop more than 10% of the held-out words said right
        hits = np.sort(proba[(~negative) & (best == truth)].max(axis=1))
        t_hits = float(hits[int(np.floor((1 - HIT_GOAL) * len(hits)))]) if len(hits) else 1.0
        t = min(t_quiet, t_hits)
        return float(min(THRESHOLD_RANGE[1], max(THRESHOLD_RANGE[0], t)))

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
        proba = self.classifier.predict_proba(self.vector(x)[None, :])[0]
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
        self.utterances += 1
        self.history.append(result)
        if heard:
            self._heard_word(word, conf, utt.end)

    # -- keeping a trained model ---------------------------------------------------------------
    def save(self, folder: str | Path, sealer: Any = None) -> Path:
        """Write the trained model (ONNX + labels + metrics); never the recordings.

        With a `labkit.atrest.Sealer` the graph (trained on children's voices) is sealed.
        """
        if self.classifier is None or not hasattr(self.classifier, "to_onnx"):
            raise LabkitError(_("There is no newly trained model to save."), code="not_trained",
                              fix=_("Record examples and press Train."))
        folder = Path(folder)
        graph = self.classifier.to_onnx()
        if sealer is not None:
            sealer.write(folder / "commands.onnx", graph)
        else:
            atomic_write_bytes(folder / "commands.onnx", graph)
        atomic_write_text(folder / "commands.json", json.dumps(
            {"classes": list(self.classifier.classes), "threshold": self.threshold,
             "metrics": self.metrics, "features": self.features_name},
            ensure_ascii=False, indent=1))
        return folder / "commands.onnx"

    def load(self, folder: str | Path, sealer: Any = None) -> None:
        """Use a model saved with `save()` (runs with ONNX Runtime; no pickle); a sealed graph
        needs the `sealer` it was saved with."""
        from labkit.models.trainable import OnnxClassifier

        folder = Path(folder)
        try:
            meta = json.loads((folder / "commands.json").read_text())
            data = (folder / "commands.onnx").read_bytes()
            if sealer is not None:
                data = sealer.open(data)
        except (OSError, ValueError):
            raise LabkitError(_("No saved command words were found."), code="not_found",
                              fix=_("Train and save them first.")) from None
        features = meta.get("features", LOG_MEL_FEATURES)
        if features != self.features_name:
            raise LabkitError(_("The saved command words were trained with other sound "
                                "features than this kit has."), code="bad_model",
                              fix=_("Ask the teacher to run: labkit models fetch; or train the "
                                    "words again."))
        self.classifier = OnnxClassifier(data, meta["classes"])
        self.metrics = meta.get("metrics")
        self.threshold = float(meta.get("threshold", self.threshold))

    def reading(self) -> dict[str, Any]:
        return {"trained": self.trained, "heard": self.heard, "last": self.last,
                "counts": self.counts(), "threshold": self.threshold,
                "listening": self._segmenter.active}
