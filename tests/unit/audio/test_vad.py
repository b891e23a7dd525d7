"""VoiceActivity (silero VAD from the model store): speech regions vs the known spans."""

from __future__ import annotations

import numpy as np
import pytest
from gpiozero import LED

from labkit.audio_ai.features import frame_energy_db
from labkit.audio_ai.vad import CHUNK, VoiceActivity
from tests.unit.audio.conftest import add_noise

RATE = 16000
HOP = 160  # 10 ms frames for scoring

UTTERANCES = [
    ("the quick brown fox jumps over the lazy dog", "en", "m3", 140),
    ("please turn on the light in the classroom", "en", "f2", 160),
    ("开灯 关灯 前进 后退", "zh_CN", "", 150),
    ("今天天气很好 我们去公园", "zh_CN", "f4", 130),
    ("good morning, how are you today", "en", "m1", 175),
]


def known_spans(clean: np.ndarray, offset: int) -> np.ndarray:
    """Speech frames of the clean utterance from its energy, gaps under 300 ms closed."""
    db = frame_energy_db(clean)
    on = db > db.max() - 35
    idx = np.flatnonzero(on)
    mask = np.zeros(db.size, bool)
    mask[idx[0]:idx[-1] + 1] = True
    frames = np.zeros(db.size + offset // HOP, bool)
    frames[offset // HOP:] = mask
    return frames


def scene(clips: list[np.ndarray], gap: float = 1.2) -> tuple[np.ndarray, np.ndarray]:
    parts, truth = [np.zeros(RATE, np.int16)], np.zeros(0, bool)
    pos = RATE
    for clip in clips:
        parts += [clip, np.zeros(int(gap * RATE), np.int16)]
        pos += clip.size + int(gap * RATE)
    audio = np.concatenate(parts)
    truth = np.zeros(audio.size // HOP + 1, bool)
    pos = RATE
    for clip in clips:
        spans = known_spans(clip, pos)
        truth[:spans.size] |= spans[:truth.size]
        pos += clip.size + int(gap * RATE)
    return audio, truth


def predicted(segments: list, n: int) -> np.ndarray:
    frames = np.zeros(n, bool)
    for seg in segments:
        frames[int(seg.start * 100):int(np.ceil(seg.end * 100))] = True
    return frames


def f1(truth: np.ndarray, pred: np.ndarray) -> float:
    tp = np.count_nonzero(truth & pred)
    precision = tp / max(1, np.count_nonzero(pred))
    recall = tp / max(1, np.count_nonzero(truth))
    return 2 * precision * recall / max(1e-9, precision + recall)


@pytest.mark.parametrize("snr", [30, 15])
def test_vad_frame_f1_on_espeak_speech(vad_model, speech, snr: int) -> None:  # type: ignore[no-untyped-def]
    clips = [speech(t, lang, variant=v, speed=s) for t, lang, v, s in UTTERANCES]
    audio, truth = scene(clips)
    noisy = add_noise(audio, snr, seed=snr)   # noise over speech and silences alike
    vad = VoiceActivity(model=vad_model)
    segments = vad.speech_segments(noisy)
    pred = predicted(segments, truth.size)
    score = f1(truth, pred)
    print(f"VAD frame F1 at {snr} dB SNR: {score:.3f} over {truth.size / 100:.1f} s, "
          f"{len(segments)} segments")
    assert score >= 0.9
    assert len(segments) >= len(clips)
    vad.close()


def test_vad_streams_in_odd_block_sizes_with_state(vad_model, speech) -> None:  # type: ignore[no-untyped-def]
    audio, _ = scene([speech("hello there, my friend")])
    whole = VoiceActivity(model=vad_model)
    a = [s.as_dict() for s in whole.speech_segments(audio)]
    odd = VoiceActivity(model=vad_model)
    odd.process(audio, block=333)           # state and context carried across blocks
    odd.flush()
    assert [s.as_dict() for s in odd.segments] == a
    assert odd.chunk_probs and 0.0 <= odd.probability <= 1.0
    whole.close()
    odd.close()


def test_vad_drives_an_led_while_speaking(vad_model, speech) -> None:  # type: ignore[no-untyped-def]
    vad = VoiceActivity(model=vad_model)
    events: list[str] = []
    vad.when_activated = lambda: events.append("speech")
    vad.when_deactivated = lambda: events.append("quiet")
    led = LED(17)
    clip = speech("one two three four")
    vad.process(np.zeros(RATE, np.int16))
    assert not vad.is_active
    vad.process(clip[: clip.size // 2])
    assert vad.is_active and vad.value == 1.0
    vad.process(clip[clip.size // 2:])
    vad.process(np.zeros(RATE, np.int16))
    assert events == ["speech", "quiet"]
    led.close()
    vad.close()


def test_vad_silence_short_and_empty(vad_model) -> None:  # type: ignore[no-untyped-def]
    vad = VoiceActivity(model=vad_model)
    assert vad.speech_segments(np.zeros(0, np.int16)) == []
    assert vad.speech_segments(np.zeros(RATE // 10, np.int16)) == []   # 0.1 s: under one chunk x3
    assert vad.speech_segments((np.random.default_rng(0).standard_normal(2 * RATE) * 30)
                               .astype(np.int16)) == []
    assert CHUNK == 512
    vad.close()


def test_vad_model_comes_from_the_store_with_the_documented_io(model_store) -> None:  # type: ignore[no-untyped-def]
    model = model_store.load("silero_vad")
    names = [t.name for t in model.inputs]
    assert names == ["input", "state", "sr"]
    vad = VoiceActivity(store=model_store)
    assert vad.model is model
    vad.close()
