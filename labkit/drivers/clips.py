"""Generated sounds for demos and tests (16 kHz mono int16), played into the simulated mic.

    clap    n=1, gap=0.35            hand claps: short bursts of decaying noise
    tone    hz=440, seconds=0.5, db=-12
    noise   seconds=1, db=-10        a loud, steady noise (a noisy classroom)
    say     text, lang=zh_CN|en      speech from espeak-ng (Mandarin via cmn-latn-pinyin)
    silence seconds=1

Like the scenes, these are real inputs: the clap detector hears the claps, the level meter
measures the noise, the keyword spotter decodes the speech.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from labkit.drivers.wav import RATE


class ClipError(ValueError):
    """A clip kind or parameter the generator does not know."""


def _seconds(p: dict[str, Any], key: str, default: float, hi: float = 30.0) -> float:
    value = float(p.get(key, default))
    if not 0 < value <= hi:
        raise ClipError(f"{key} must be more than 0 and at most {hi}")
    return value


def _amp(db: float) -> float:
    return 32767.0 * 10 ** (float(db) / 20)


def clap(n: int = 1, gap: float = 0.35, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    burst_len = int(0.03 * RATE)
    env = np.exp(-np.arange(burst_len) / (0.004 * RATE))
    step = int(gap * RATE)
    out = np.zeros(step * (n - 1) + burst_len + int(0.2 * RATE))
    for i in range(n):
        burst = rng.standard_normal(burst_len) * env * _amp(-3)
        out[i * step:i * step + burst_len] += burst
    return np.clip(out, -32768, 32767).astype(np.int16)


def make(kind: str, params: dict[str, Any]) -> np.ndarray:
    """The samples of clip `kind` with `params`."""
    if kind == "clap":
        n = int(params.get("n", 1))
        if not 1 <= n <= 20:
            raise ClipError("clap: n must be 1 to 20")
        return clap(n, _seconds(params, "gap", 0.35, 2.0))
    if kind == "tone":
        seconds = _seconds(params, "seconds", 0.5)
        t = np.arange(int(seconds * RATE)) / RATE
        wave = np.sin(2 * np.pi * float(params.get("hz", 440)) * t) * _amp(params.get("db", -12))
        return wave.astype(np.int16)
    if kind == "noise":
        seconds = _seconds(params, "seconds", 1.0)
        rng = np.random.default_rng(1)
        wave = rng.standard_normal(int(seconds * RATE)) * _amp(params.get("db", -10)) / 2
        return np.clip(wave, -32768, 32767).astype(np.int16)
    if kind == "silence":
        return np.zeros(int(_seconds(params, "seconds", 1.0) * RATE), np.int16)
    if kind == "say":
        from labkit.drivers.tts import synthesize

        words = params.get("text")
        if not isinstance(words, str) or not words.strip():
            raise ClipError("say: give the text to speak")
        return synthesize(words, str(params.get("lang", "zh_CN")))
    raise ClipError(f"unknown sound {kind!r}; the sounds are: clap, tone, noise, say, silence")


def check(kind: str, params: dict[str, Any]) -> None:
    """Raise ClipError for a clip that cannot be made (speech is not synthesised here)."""
    if kind == "say":
        if not isinstance(params.get("text"), str) or not params["text"].strip():
            raise ClipError("say: give the text to speak")
        if params.get("lang", "zh_CN") not in ("zh_CN", "en"):
            raise ClipError("say: lang must be zh_CN or en")
        return
    make(kind, params)
