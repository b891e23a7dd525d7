"""Audio fixtures: espeak-ng speech generated once per session, noise, claps, test tones."""

from __future__ import annotations

from functools import lru_cache
from typing import Callable

import numpy as np
import pytest

RATE = 16000


@lru_cache(maxsize=None)
def _speech(text: str, lang: str, variant: str, speed: int, pitch: int) -> np.ndarray:
    from labkit.drivers.tts import synthesize

    out = synthesize(text, lang, variant=variant, speed=speed, pitch=pitch)
    out.setflags(write=False)
    return out


@pytest.fixture(scope="session")
def speech() -> Callable[..., np.ndarray]:
    """espeak-ng speech at 16 kHz (polyphase-resampled by labkit.drivers.tts), cached."""

    def make(text: str, lang: str = "en", variant: str = "", speed: int = 150,
             pitch: int = 50) -> np.ndarray:
        return _speech(text, lang, variant, speed, pitch)

    return make


def add_noise(x: np.ndarray, snr_db: float, seed: int = 0) -> np.ndarray:
    """White noise at `snr_db` below the mean power of the loud part of `x`."""
    rng = np.random.default_rng(seed)
    f = np.asarray(x, dtype=np.float64)
    loud = f[np.abs(f) > 0.05 * np.abs(f).max()] if f.size and np.abs(f).max() > 0 else f
    power = float(np.mean(loud ** 2)) if loud.size else 1.0
    noisy = f + rng.standard_normal(f.size) * np.sqrt(power / 10 ** (snr_db / 10))
    return np.clip(np.round(noisy), -32768, 32767).astype(np.int16)


def pad(x: np.ndarray, before: float = 1.0, after: float = 1.0) -> np.ndarray:
    return np.concatenate([np.zeros(int(before * RATE), np.int16), np.asarray(x, np.int16),
                           np.zeros(int(after * RATE), np.int16)])


def room(seconds: float, dbfs: float = -55.0, seed: int = 1) -> np.ndarray:
    """Quiet room noise at about `dbfs` (float, to be mixed)."""
    rng = np.random.default_rng(seed)
    return rng.standard_normal(int(seconds * RATE)) * 32767 * 10 ** (dbfs / 20) / np.sqrt(0.5) / 2


def clap(seed: int, amp: float = 0.6, seconds: float = 0.06) -> np.ndarray:
    """A hand clap: a burst of noise with a fast (12 ms) exponential decay."""
    rng = np.random.default_rng(seed)
    n = int(seconds * RATE)
    t = np.arange(n) / RATE
    return rng.standard_normal(n) * amp * 32767 / 3 * np.exp(-t / 0.012)


def scene(events: list[tuple[float, np.ndarray]], seconds: float, noise_dbfs: float = -55.0,
          seed: int = 1) -> np.ndarray:
    """Room noise with signals mixed in at the given times (seconds)."""
    x = room(seconds, noise_dbfs, seed)
    for t0, sig in events:
        i = int(t0 * RATE)
        x[i:i + sig.size] += np.asarray(sig, dtype=np.float64)[: x.size - i]
    return np.clip(np.round(x), -32768, 32767).astype(np.int16)


@pytest.fixture(scope="session")
def vad_model(model_store):  # type: ignore[no-untyped-def]
    return model_store.load("silero_vad")
