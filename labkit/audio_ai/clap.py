"""ClapDetector: counts hand claps and turns a double clap into a toggle.

A clap is a *short burst*: the level jumps well above the room's background within a few
milliseconds and falls back again within ~150 ms. Speech and music rise too, but stay loud for
longer, so they are not claps. The detector works on 10 ms frames:

1. background: a slow tracker of the room level (falls fast, rises slowly, frozen during a
   burst), so a noisy classroom needs a louder clap than a quiet one;
2. onset: a frame ≥ `threshold_db` above the background and above `min_dbfs`;
3. the burst must drop `decay_db` below its peak within `max_burst` seconds, else it was not a
   clap (a shout, a word, music), and it must *sound* like one: broadband noise (spectral
   flatness ≥ `min_flatness`, at most `max_low_share` of its energy below 1 kHz). Short words
   and consonants ("tick", "stop", "kick") pass the shape test but are voiced: measured on
   espeak-ng speech their flatness stays ≤ 0.35, synthesized claps ≥ 0.5 (the defaults sit
   between; tests/unit/audio/test_clap.py). With that check the onset can be 14 dB over the
   room instead of 18, so softer claps in a noisy room count too;
4. claps closer than `refractory` are one clap (its echo); two claps within `double_gap`
   make a double clap, which flips `toggled`.

    clap = ClapDetector(mic)
    lamp.source = clap.toggled.values       # clap clap: on; clap clap: off
    clap.when_activated = buzzer.beep       # every single clap
"""

from __future__ import annotations

from collections import deque
from typing import Any, Callable

import numpy as np

from labkit.audio_ai.device import AudioDetector
from labkit.audio_ai.level import SILENCE_DBFS, _ms_to_dbfs
from labkit.drivers.wav import RATE

FRAME = 160  # 10 ms


class ClapDetector(AudioDetector):
    """`value` is 1.0 for `hold` seconds after each clap (so `when_activated` fires per clap)."""

    def __init__(self, mic: Any = None, *, threshold_db: float = 14.0, min_dbfs: float = -35.0,
                 decay_db: float = 12.0, max_burst: float = 0.15, refractory: float = 0.12,
                 double_gap: float = 0.7, hold: float = 0.2, max_low_share: float = 0.35,
                 min_flatness: float = 0.4, pin_factory: Any = None) -> None:
        self.max_low_share = float(max_low_share)
        self.min_flatness = float(min_flatness)
        self.last_burst: dict[str, float] = {}
        self.threshold_db = float(threshold_db)
        self.min_dbfs = float(min_dbfs)
        self.decay_db = float(decay_db)
        self.max_burst = float(max_burst)
        self.refractory = float(refractory)
        self.double_gap = float(double_gap)
        self.hold = float(hold)
        self.count = 0            # claps heard
        self.doubles = 0          # double claps heard
        self.singles = 0          # claps that stayed single (known once double_gap has passed)
        self.is_toggled = False
        self.clap_times: deque[float] = deque(maxlen=50)  # audio time of each clap, seconds
        self.when_clap: Callable[[], Any] | None = None
        self.when_double_clap: Callable[[], Any] | None = None
        self._carry = np.zeros(0, np.int16)
        self._frame_index = 0
        self._background: float | None = None
        self._burst_start: int | None = None   # frame index of the onset
        self._burst_peak = SILENCE_DBFS
        self._long_sound = False
        self._last_clap = -10**9                # frame index of the last clap
        self._pending_single: int | None = None  # frame index of a clap awaiting its partner
        self._active_until = -1
        # the last frames' samples, for the burst's spectrum (a clap is noise-like, a spoken
        # consonant leads into a voiced vowel whose energy sits low)
        self._recent: deque[np.ndarray] = deque(maxlen=self._frames(self.max_burst) + 4)
        self.rejected_voiced = 0   # bursts that ended like claps but sounded like speech
        super().__init__(mic, pin_factory=pin_factory)
        self.toggled = self._signal(lambda: 1.0 if self.is_toggled else 0.0, "toggled")
        self.double = self._signal(self._double_active, "double")
        self._double_until = -1

    def _double_active(self) -> float:
        return 1.0 if self._frame_index <= getattr(self, "_double_until", -1) else 0.0

    def _frames(self, seconds: float) -> int:
        return max(1, int(round(seconds * RATE / FRAME)))

    def _process(self, block: np.ndarray) -> None:
        data = np.concatenate([self._carry, block]) if self._carry.size else block
        n = data.size // FRAME
        self._carry = data[n * FRAME:].copy()
        if n == 0:
            return
        frames = data[: n * FRAME].astype(np.float64).reshape(n, FRAME)
        for frame, ms in zip(frames, np.mean(frames * frames, axis=1), strict=True):
            self._recent.append(frame)
            self._step(_ms_to_dbfs(float(ms)))
        self._set_value(1.0 if self._frame_index <= self._active_until else 0.0)

    def _step(self, db: float) -> None:
        i = self._frame_index
        self._frame_index += 1
        if self._background is None:
            self._background = db
        bg = self._background
        quiet_again = db < bg + self.threshold_db / 2
        if self._long_sound:
            # inside a shout / word / music: no clap starts until it is quiet again
            self._long_sound = not quiet_again
        elif self._burst_start is None:
            if db >= bg + self.threshold_db and db >= self.min_dbfs:
                self._burst_start = i
                self._burst_peak = db
        else:
            self._burst_peak = max(self._burst_peak, db)
            if db <= self._burst_peak - self.decay_db or quiet_again:
                start, self._burst_start = self._burst_start, None
                if self._sounds_like_a_clap(i - start + 1):
                    self._on_clap(i)
                else:
                    self.rejected_voiced += 1
            elif i - self._burst_start > self._frames(self.max_burst):
                self._burst_start = None
                self._long_sound = True
        if self._burst_start is None and not self._long_sound:
            # fall quickly to quieter levels, rise slowly (a burst must not lift it)
            rate = 0.3 if db < bg else 0.02
            self._background = bg + rate * (db - bg)
        if (self._pending_single is not None
                and i - self._pending_single > self._frames(self.double_gap)):
            self.singles += 1
            self._pending_single = None

    def _sounds_like_a_clap(self, n_frames: int) -> bool:
        """A clap's burst is broadband noise; a short word's is mostly voiced, low energy.

        Over the burst's frames: the share of energy below 1 kHz must stay under
        `max_low_share` and the spectral flatness (geometric / arithmetic mean of the power
        spectrum, 300 Hz–7 kHz) reach `min_flatness`.
        """
        frames = list(self._recent)[-(n_frames + 1):]
        if not frames:
            return True
        x = np.concatenate(frames)
        spec = np.abs(np.fft.rfft(x * np.hanning(x.size))) ** 2
        freqs = np.fft.rfftfreq(x.size, 1.0 / RATE)
        total = float(spec[freqs >= 50].sum()) or 1e-12
        low = float(spec[(freqs >= 50) & (freqs < 1000)].sum()) / total
        band = spec[(freqs >= 300) & (freqs <= 7000)] + 1e-12
        flatness = float(np.exp(np.mean(np.log(band))) / np.mean(band))
        self.last_burst = {"low_share": round(low, 3), "flatness": round(flatness, 3)}
        return low <= self.max_low_share and flatness >= self.min_flatness

    def _on_clap(self, i: int) -> None:
        if i - self._last_clap < self._frames(self.refractory):
            return
        self._last_clap = i
        self.count += 1
        self.clap_times.append(round(i * FRAME / RATE, 3))
        self._active_until = i + self._frames(self.hold)
        if self.when_clap is not None:
            self.when_clap()
        if self._pending_single is not None and i - self._pending_single <= self._frames(self.double_gap):
            self._pending_single = None
            self.doubles += 1
            self.is_toggled = not self.is_toggled
            self._double_until = i + self._frames(self.hold)
            if self.when_double_clap is not None:
                self.when_double_clap()
        else:
            self._pending_single = i

    def reset(self) -> None:
        """Forget the counts (the toggle keeps its state)."""
        self.count = self.doubles = self.singles = 0
        self.clap_times.clear()

    def reading(self) -> dict[str, Any]:
        return {"count": self.count, "doubles": self.doubles, "singles": self.singles,
                "toggled": self.is_toggled, "active": bool(self._value),
                "background_dbfs": None if self._background is None
                else round(self._background, 1)}
