"""Cutting a live stream into utterances: the words between pauses.

Both command recognisers (pocketsphinx grammar mode and the teachable command words) look at
one short utterance at a time. The `Segmenter` decides per block whether there is speech —
with silero VAD when it is given one, else with an adaptive energy gate — keeps a little audio
from before the onset (so the first consonant is not lost) and hands over the utterance once a
pause of `hangover` seconds follows it.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from labkit.audio_ai.level import dbfs
from labkit.drivers.wav import RATE


@dataclass
class Utterance:
    """One stretch of sound: samples (int16) and where it sits in audio time (seconds)."""

    samples: np.ndarray
    start: float
    end: float
    forced: bool = False   # cut because it grew longer than max_seconds

    @property
    def duration(self) -> float:
        return self.samples.size / RATE


class EnergyGate:
    """Sound if a block is `margin_db` above the tracked background and above `floor_dbfs`."""

    def __init__(self, margin_db: float = 12.0, floor_dbfs: float = -50.0) -> None:
        self.margin_db = margin_db
        self.floor_dbfs = floor_dbfs
        self.background: float | None = None

    def __call__(self, block: np.ndarray) -> bool:
        db = dbfs(block)
        if self.background is None:
            self.background = min(db, -45.0)
        loud = db >= self.background + self.margin_db and db >= self.floor_dbfs
        # follow quiet levels quickly, loud ones very slowly (speech must not lift the floor)
        rate = 0.2 if db < self.background else (0.002 if loud else 0.02)
        self.background += rate * (db - self.background)
        return loud


class VadGate:
    """Sound if silero says speech. With `feed=False` the VoiceActivity is fed elsewhere (one
    VAD shared by several recognisers, fed once per block before them)."""

    def __init__(self, vad: Any, feed: bool = True) -> None:
        self.vad = vad
        self.feed = feed

    def __call__(self, block: np.ndarray) -> bool:
        if self.feed:
            self.vad.feed(block)
        return bool(self.vad.speaking)


class Segmenter:
    """Feed blocks; `on_utterance(utt)` is called for each utterance after its pause."""

    def __init__(self, on_utterance: Callable[[Utterance], Any], *, gate: Any = None,
                 preroll: float = 0.25, hangover: float | None = None, min_seconds: float = 0.15,
                 max_seconds: float = 3.0) -> None:
        self.on_utterance = on_utterance
        self.gate = gate if gate is not None else EnergyGate()
        self.preroll = preroll
        # silero already waits out short pauses; the energy gate needs its own patience
        self.hangover = hangover if hangover is not None else (
            0.1 if isinstance(self.gate, VadGate) else 0.3)
        self.min_seconds = min_seconds
        self.max_seconds = max_seconds
        self._pre: deque[np.ndarray] = deque()
        self._pre_len = 0
        self._cur: list[np.ndarray] = []
        self._cur_len = 0
        self._quiet = 0
        self._t = 0          # samples seen
        self._start = 0
        self.active = False

    def feed(self, block: np.ndarray) -> None:
        block = np.asarray(block, dtype=np.int16).reshape(-1)
        if block.size == 0:
            return
        sound = bool(self.gate(block))
        self._t += block.size
        if not self.active:
            self._pre.append(block)
            self._pre_len += block.size
            while self._pre and self._pre_len - self._pre[0].size >= self.preroll * RATE:
                self._pre_len -= self._pre.popleft().size
            if sound:
                self.active = True
                self._cur = list(self._pre)
                self._cur_len = self._pre_len
                self._start = self._t - self._pre_len
                self._pre.clear()
                self._pre_len = 0
                self._quiet = 0
            return
        self._cur.append(block)
        self._cur_len += block.size
        self._quiet = 0 if sound else self._quiet + block.size
        if self._quiet >= self.hangover * RATE:
            self._emit(forced=False)
        elif self._cur_len >= self.max_seconds * RATE:
            self._emit(forced=True)

    def flush(self) -> None:
        """End of the audio: hand over what is still open."""
        if self.active:
            self._emit(forced=False)

    def _emit(self, forced: bool) -> None:
        samples = np.concatenate(self._cur) if self._cur else np.zeros(0, np.int16)
        # drop most of the trailing pause, keep a little tail
        keep_tail = int(0.1 * RATE)
        if not forced and self._quiet > keep_tail:
            samples = samples[: max(0, samples.size - (self._quiet - keep_tail))]
        self.active = False
        self._cur, self._cur_len, self._quiet = [], 0, 0
        if samples.size >= self.min_seconds * RATE:
            self.on_utterance(Utterance(samples, self._start / RATE,
                                        (self._start + samples.size) / RATE, forced))
