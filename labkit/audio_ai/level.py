"""SoundLevel: how loud it is, in dBFS and in (uncalibrated) dB, as a gpiozero device.

dBFS follows AES17: a full-scale sine reads 0 dBFS, so a sine of amplitude A (out of 32767)
reads 20·log10(A / 32767). The meter uses "fast" time weighting (125 ms exponential average of
the mean square, as on a sound level meter), so the page's needle moves like a real meter.

`db` is dBFS plus an offset (default 100: a quiet classroom around 40 dB, normal speech near
the microphone 60–75 dB). It is an estimate, not a calibrated SPL: `calibrate(known_db)` sets
the offset from a reference (a phone's sound-meter app next to the kit).

    level = SoundLevel(mic, threshold_db=70)
    level.when_activated = lamp.on          # it got loud
    pwm_led.source = level.values           # value: 0.0 at 30 dB … 1.0 at 100 dB
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from labkit.audio_ai.device import AudioDetector, Signal
from labkit.drivers.wav import RATE

FULL_SCALE = 32767.0
SILENCE_DBFS = -100.0
FAST_TAU = 0.125          # seconds, IEC 61672 "fast"
DEFAULT_OFFSET_DB = 100.0
CLIP_LEVEL = 32700        # |sample| at or above this counts as clipped


def dbfs(samples: np.ndarray) -> float:
    """RMS level of a clip in dBFS (AES17: full-scale sine = 0 dBFS); silence → -100."""
    x = np.asarray(samples, dtype=np.float64).reshape(-1)
    if x.size == 0:
        return SILENCE_DBFS
    ms = float(np.mean(x * x))
    return _ms_to_dbfs(ms)


def _ms_to_dbfs(ms: float) -> float:
    if ms <= 0.0:
        return SILENCE_DBFS
    # a full-scale sine has mean square FULL_SCALE² / 2
    return max(SILENCE_DBFS, 10.0 * math.log10(ms / (FULL_SCALE * FULL_SCALE / 2.0)))


def clipped_fraction(samples: np.ndarray) -> float:
    """Share of samples stuck at (or next to) full scale: > 0.1 % means the input clips."""
    x = np.asarray(samples).reshape(-1)
    if x.size == 0:
        return 0.0
    return float(np.count_nonzero(np.abs(x.astype(np.int32)) >= CLIP_LEVEL)) / x.size


class SoundLevel(AudioDetector):
    """Live loudness. `value` is the level mapped to 0–1 over [`floor_db`, `ceiling_db`];
    `is_active` while `db` ≥ `threshold_db` (with 3 dB hysteresis so it does not chatter)."""

    def __init__(self, mic: Any = None, *, threshold_db: float = 70.0,
                 offset_db: float = DEFAULT_OFFSET_DB, floor_db: float = 30.0,
                 ceiling_db: float = 100.0, tau: float = FAST_TAU, hysteresis_db: float = 3.0,
                 pin_factory: Any = None) -> None:
        self.threshold_db = float(threshold_db)
        self.offset_db = float(offset_db)
        self.floor_db, self.ceiling_db = float(floor_db), float(ceiling_db)
        self.tau = float(tau)
        self.hysteresis_db = float(hysteresis_db)
        self._ms = 0.0
        self._loud = False
        self.peak_dbfs = SILENCE_DBFS
        self.block_dbfs = SILENCE_DBFS
        self.clipping = False
        super().__init__(mic, pin_factory=pin_factory)

    @property
    def dbfs(self) -> float:
        """Fast-weighted level in dBFS."""
        return _ms_to_dbfs(self._ms)

    @property
    def db(self) -> float:
        """Estimated sound level in dB (dBFS + offset; see `calibrate`)."""
        return self.dbfs + self.offset_db

    def calibrate(self, known_db: float) -> None:
        """Set the offset so the current reading equals `known_db` (from a reference meter)."""
        self.offset_db = float(known_db) - self.dbfs

    def _process(self, block: np.ndarray) -> None:
        if block.size == 0:
            return
        x = block.astype(np.float64)
        ms = float(np.mean(x * x))
        # exponential time weighting over this block's duration
        alpha = 1.0 - math.exp(-(block.size / RATE) / self.tau)
        self._ms = ms if self.samples_seen == 0 else self._ms + alpha * (ms - self._ms)
        self.block_dbfs = _ms_to_dbfs(ms)
        self.peak_dbfs = max(SILENCE_DBFS, 20.0 * math.log10(max(1.0, float(np.abs(x).max()))
                                                              / FULL_SCALE))
        self.clipping = clipped_fraction(block) > 0.001
        db = self.db
        if self._loud:
            self._loud = db >= self.threshold_db - self.hysteresis_db
        else:
            self._loud = db >= self.threshold_db
        span = self.ceiling_db - self.floor_db
        self._set_value(min(1.0, max(0.0, (db - self.floor_db) / span)))

    def _value_active(self) -> bool:
        return self._loud

    @property
    def is_active(self) -> bool:
        self._check_open()
        return self._loud

    def above(self, db: float) -> Signal:
        """A sub-device active while the level is at or above `db` (e.g. `level.above(80)`)."""
        return self._signal(lambda: 1.0 if self.db >= db else 0.0, f"above({db:g})")

    def reading(self) -> dict[str, Any]:
        """What the page's meter shows (JSON-able)."""
        return {"dbfs": round(self.dbfs, 1), "db": round(self.db, 1),
                "peak_dbfs": round(self.peak_dbfs, 1), "value": round(self._value, 3),
                "loud": self._loud, "clipping": self.clipping,
                "threshold_db": self.threshold_db}
