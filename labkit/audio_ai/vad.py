"""VoiceActivity: is someone speaking? silero VAD (ONNX, from the model store), streaming.

silero VAD v6 is a small recurrent network run on 512-sample chunks (32 ms at 16 kHz). Each
call takes the chunk with the last 64 samples of the previous chunk in front (input
float32 [1, 576]), its recurrent `state` float32 [2, 1, 128] and `sr` (int64 scalar 16000), and
answers the speech probability [1, 1] and the next state. We keep state and context between
calls, so the detector follows a live stream chunk by chunk.

Turning probabilities into speech regions uses silero's own rules: speech starts when the
probability reaches `threshold`, and ends once it stays under `threshold - 0.15` for
`min_silence` seconds; regions shorter than `min_speech` are dropped from `segments`.

    vad = VoiceActivity(mic)
    led.source = vad.values          # LED on while someone speaks
    vad.when_deactivated = ...       # someone finished a sentence
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from labkit.audio_ai.device import AudioDetector
from labkit.drivers.wav import RATE
from labkit.errors import LabkitError
from labkit.errors import lazy_gettext as _

CHUNK = 512
CONTEXT = 64
MODEL_NAME = "silero_vad"


@dataclass(frozen=True)
class Segment:
    """A stretch of speech in audio time (seconds since the detector started)."""

    start: float
    end: float

    @property
    def duration(self) -> float:
        return self.end - self.start

    def as_dict(self) -> dict[str, float]:
        return {"start": round(self.start, 3), "end": round(self.end, 3)}


class _OnnxFile:
    """Runs an .onnx file given by path with the same `run(feeds) -> dict` as the store's Model
    (for a model a school imported by hand; the kit's own comes from the store)."""

    def __init__(self, path: str | Path, threads: int = 1) -> None:
        from labkit.models.runtime import onnx_session

        try:
            self._session = onnx_session(path, threads=threads)
        except Exception as exc:
            raise LabkitError(_("The voice activity model cannot be loaded."),
                              code="bad_model", fix=_("Run: labkit models fetch")) from exc
        self._outputs = [o.name for o in self._session.get_outputs()]

    def run(self, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        return dict(zip(self._outputs, self._session.run(None, feeds), strict=True))


def load_vad_model(model: Any = None, store: Any = None) -> Any:
    """The silero model: an object with `run()`, a path to an .onnx file, or from the store."""
    if model is not None and hasattr(model, "run"):
        return model
    if model is not None:
        return _OnnxFile(model)
    if store is None:
        from labkit.config import Settings
        from labkit.models import ModelStore

        store = ModelStore(Settings.from_env())
    return store.load(MODEL_NAME)


class VoiceActivity(AudioDetector):
    """`value` is 1.0 while someone speaks; `probability` is silero's latest speech probability."""

    def __init__(self, mic: Any = None, *, model: Any = None, store: Any = None,
                 threshold: float = 0.5, min_silence: float = 0.1, min_speech: float = 0.25,
                 pad: float = 0.03, max_segments: int = 50, pin_factory: Any = None) -> None:
        self.model = load_vad_model(model, store)
        self.threshold = float(threshold)
        self.min_silence = float(min_silence)
        self.min_speech = float(min_speech)
        self.pad = float(pad)
        self.probability = 0.0
        self.segments: deque[Segment] = deque(maxlen=max_segments)
        self.chunk_probs: deque[float] = deque(maxlen=64)   # recent chunk probabilities
        self.when_segment: Callable[[Segment], Any] | None = None
        self._buf = np.zeros(0, np.float32)
        self._chunks = 0
        self._speaking = False
        self._start = 0.0
        self._quiet_since: float | None = None
        self.reset_state()
        super().__init__(mic, pin_factory=pin_factory)

    def reset_state(self) -> None:
        """Forget the recurrent state and context (a new, unrelated stream follows)."""
        self._state = np.zeros((2, 1, 128), dtype=np.float32)
        self._context = np.zeros(CONTEXT, dtype=np.float32)
        self._sr = np.array(RATE, dtype=np.int64)

    def chunk_probability(self, chunk: np.ndarray) -> float:
        """Run the model on one 512-sample float chunk, carrying state and context."""
        x = np.concatenate([self._context, chunk]).astype(np.float32)[None, :]
        out = self.model.run({"input": x, "state": self._state, "sr": self._sr})
        prob, state = self._unpack(out)
        self._state = state.astype(np.float32, copy=False)
        self._context = chunk[-CONTEXT:].astype(np.float32)
        return float(prob)

    @staticmethod
    def _unpack(out: Any) -> tuple[float, np.ndarray]:
        if isinstance(out, dict):
            prob = out.get("output", next(iter(out.values())))
            state = out.get("stateN", list(out.values())[-1])
        else:
            prob, state = out[0], out[1]
        return float(np.asarray(prob).reshape(-1)[0]), np.asarray(state)

    def _process(self, block: np.ndarray) -> None:
        x = block.astype(np.float32) / 32768.0
        self._buf = np.concatenate([self._buf, x]) if self._buf.size else x
        while self._buf.size >= CHUNK:
            chunk, self._buf = self._buf[:CHUNK], self._buf[CHUNK:]
            self.probability = self.chunk_probability(chunk)
            self.chunk_probs.append(self.probability)
            self._chunks += 1
            self._update(self._chunks * CHUNK / RATE)
        self._set_value(1.0 if self._speaking else 0.0)

    def _update(self, t_end: float) -> None:
        """Hysteresis on the probability of the chunk that ends at `t_end` seconds."""
        p = self.probability
        t_start = t_end - CHUNK / RATE
        if not self._speaking:
            if p >= self.threshold:
                self._speaking = True
                self._start = max(0.0, t_start - self.pad)
                self._quiet_since = None
            return
        if p >= self.threshold - 0.15:
            self._quiet_since = None
            return
        if self._quiet_since is None:
            self._quiet_since = t_start
        if t_end - self._quiet_since >= self.min_silence:
            self._speaking = False
            seg = Segment(self._start, self._quiet_since + self.pad)
            if seg.duration >= self.min_speech:
                self.segments.append(seg)
                if self.when_segment is not None:
                    self.when_segment(seg)

    def flush(self) -> None:
        """End the current speech region at the end of the audio (end of a file)."""
        if self._speaking:
            t = self._chunks * CHUNK / RATE
            end = self._quiet_since + self.pad if self._quiet_since is not None else t
            seg = Segment(self._start, min(t, end))
            self._speaking = False
            if seg.duration >= self.min_speech:
                self.segments.append(seg)
                if self.when_segment is not None:
                    self.when_segment(seg)
            self._set_value(0.0)

    def speech_segments(self, samples: np.ndarray) -> list[Segment]:
        """Speech regions of a whole clip (a fresh stream: state reset first, flushed after)."""
        self.reset_state()
        self._buf = np.zeros(0, np.float32)
        self._chunks = 0
        self._speaking = False
        self.samples_seen = 0
        self.segments.clear()
        self.process(samples)
        self.flush()
        return list(self.segments)

    @property
    def speaking(self) -> bool:
        return self._speaking

    def reading(self) -> dict[str, Any]:
        return {"speaking": self._speaking, "probability": round(self.probability, 3),
                "segments": [s.as_dict() for s in list(self.segments)[-5:]],
                "t": round(self._chunks * CHUNK / RATE, 3)}
