"""log-mel features: shape, frame timing, where the energy lands, and odd clips."""

from __future__ import annotations

import numpy as np
import pytest

from labkit.audio_ai import features as F

RATE = 16000


def sine(freq: float, seconds: float, amp: float = 0.5) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    return (amp * 32767 * np.sin(2 * np.pi * freq * t)).astype(np.int16)


def test_log_mel_shape_and_dtype() -> None:
    m = F.log_mel(sine(440, 1.0))
    assert m.dtype == np.float32
    assert m.shape == (1 + (RATE - 400) // 160, 40)   # 25 ms windows every 10 ms


def test_energy_lands_in_the_right_band() -> None:
    low = F.log_mel(sine(300, 0.5)).mean(axis=0)
    high = F.log_mel(sine(3000, 0.5)).mean(axis=0)
    assert np.argmax(high) > np.argmax(low) + 10
    centres = F._mel_to_hz(np.linspace(F._hz_to_mel(20), F._hz_to_mel(8000), 42))[1:-1]
    assert abs(centres[np.argmax(low)] - 300) < 80
    assert abs(centres[np.argmax(high)] - 3000) < 400


def test_int16_and_float_input_agree() -> None:
    x = sine(1000, 0.3)
    np.testing.assert_allclose(F.log_mel(x), F.log_mel(x / 32768.0), atol=1e-3)


def test_silence_and_tiny_clips_do_not_crash() -> None:
    assert F.log_mel(np.zeros(0, np.int16)).shape == (1, 40)
    assert F.log_mel(np.zeros(100, np.int16)).shape == (1, 40)
    assert np.all(F.log_mel(np.zeros(RATE, np.int16)) == pytest.approx(np.log(F.LOG_FLOOR), abs=1e-4))
    assert F.clip_features(np.zeros(1600, np.int16)).shape == (F.N_FRAMES * 40,)


def test_trim_finds_the_loud_part() -> None:
    x = np.concatenate([np.zeros(8000, np.int16), sine(500, 0.4), np.zeros(8000, np.int16)])
    start, end = F.speech_bounds(x)
    assert abs(start - 8000) <= 5 * 160 and abs(end - 14400) <= 5 * 160
    assert F.speech_bounds(np.zeros(RATE, np.int16)) is None


def test_clip_features_ignore_loudness_and_silence_padding() -> None:
    from labkit.drivers.tts import synthesize

    rng = np.random.default_rng(0)

    def room(x: np.ndarray) -> np.ndarray:   # the same quiet room noise under every clip
        return np.clip(x + rng.standard_normal(x.size) * 30, -32768, 32767).astype(np.int16)

    word = synthesize("开灯", "zh_CN").astype(np.float64)
    same = [room(word), room(word * 0.2),
            room(np.concatenate([np.zeros(6000), word, np.zeros(3000)]))]
    other = room(synthesize("关灯", "zh_CN").astype(np.float64))
    a, quiet, padded, b = (F.clip_features(x) for x in (*same, other))
    assert np.corrcoef(a, quiet)[0, 1] > 0.93
    assert np.corrcoef(a, padded)[0, 1] > 0.93
    assert np.corrcoef(a, b)[0, 1] < 0.85     # a different word still looks different


def test_resize_frames_any_length() -> None:
    for n in (1, 5, 31, 32, 33, 300):
        assert F.resize_frames(np.random.default_rng(n).random((n, 40))).shape == (32, 40)
