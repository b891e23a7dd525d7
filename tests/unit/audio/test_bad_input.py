"""Bad audio in: WAVs in other formats are converted, junk is a clear error, the kit copes with
empty, 0.1 s and clipped clips, and a missing microphone is reported in plain words."""

from __future__ import annotations

import io

import numpy as np
import pytest
from scipy.io import wavfile

from labkit.audio_ai.clap import ClapDetector
from labkit.audio_ai.features import log_mel
from labkit.audio_ai.level import SoundLevel, dbfs
from labkit.drivers.wav import read_wav
from labkit.errors import LabkitError

RATE = 16000


def tone(rate: int, seconds: float = 1.0, amp: float = 0.5, freq: float = 440.0) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    return amp * np.sin(2 * np.pi * freq * t)


def wav(rate: int, data: np.ndarray) -> bytes:
    buf = io.BytesIO()
    wavfile.write(buf, rate, data)
    return buf.getvalue()


@pytest.mark.parametrize("rate, make", [
    (44100, lambda x: np.stack([x, x], axis=1).astype(np.float32)),        # float stereo
    (48000, lambda x: (x * 32767).astype(np.int16)),                        # 48 kHz
    (22050, lambda x: ((x * 127) + 128).astype(np.uint8)),                  # 8-bit
    (8000, lambda x: (x * 2147483647).astype(np.int32)),                    # 32-bit, 8 kHz
    (16000, lambda x: np.stack([x * 32767] * 2, axis=1).astype(np.int16)),  # stereo
])
def test_other_formats_are_converted(rate, make) -> None:  # type: ignore[no-untyped-def]
    samples = read_wav(wav(rate, make(tone(rate))))
    assert samples.dtype == np.int16 and samples.ndim == 1
    assert abs(samples.size - RATE) <= 2                 # 1 s at 16 kHz
    assert dbfs(samples) == pytest.approx(20 * np.log10(0.5), abs=0.6)
    spectrum = log_mel(samples).mean(axis=0)
    assert 3 <= int(np.argmax(spectrum)) <= 12              # 440 Hz stays 440 Hz


def test_more_than_two_channels_are_refused_from_the_header() -> None:
    six = np.stack([tone(RATE) * 32767] * 6, axis=1).astype(np.int16)
    with pytest.raises(LabkitError) as info:
        read_wav(wav(RATE, six))
    assert info.value.code == "bad_audio" and "6 channels" in info.value.message


@pytest.mark.parametrize("data", [b"", b"RIFF1234WAVEjunk", b"not a wav at all" * 10,
                                  wav(16000, np.zeros(0, np.int16))])
def test_junk_and_empty_wavs_are_clear_errors(data: bytes) -> None:
    with pytest.raises(LabkitError) as info:
        read_wav(data)
    assert info.value.code == "bad_audio" and info.value.fix


def test_tiny_and_clipped_clips_do_not_break_the_detectors() -> None:
    short = (tone(RATE, 0.1) * 32767).astype(np.int16)
    clipped = np.clip(tone(RATE, 1.0, amp=3.0) * 32767, -32768, 32767).astype(np.int16)
    for clip in (np.zeros(0, np.int16), short, clipped):
        level = SoundLevel().process(clip)
        claps = ClapDetector().process(clip)
        assert claps.count == 0
        assert log_mel(clip).shape[1] == 40
        level.close()
        claps.close()
    assert SoundLevel().process(clipped).clipping


def test_doctor_says_plainly_when_there_is_no_microphone(monkeypatch, settings) -> None:  # type: ignore[no-untyped-def]
    from labkit import doctor
    from labkit.drivers.audio import ArecordSource, SoundDeviceSource

    monkeypatch.setattr(SoundDeviceSource, "available", staticmethod(lambda: False))
    monkeypatch.setattr(ArecordSource, "available", staticmethod(lambda: False))
    finding = doctor.check_microphone(settings)
    assert not finding.ok and not finding.required       # the kit still runs
    assert "no microphone" in finding.detail and "arecord -l" in finding.fix


def test_runtime_without_a_microphone_keeps_working(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from labkit.config import Settings
    from labkit.runtime import KitRuntime

    s = Settings(data_dir=tmp_path / "d", hardware="sim", camera="synthetic",
                 microphone=str(tmp_path / "no-such-mic.wav"), threads=2)
    rt = KitRuntime(s, start_camera=False)
    try:
        mic = rt.microphone                       # waited for: picked up when plugged in
        assert mic is not None and not mic.connected and rt.microphone_error is None
        rt.kit.led.on()                                   # the pins still work
        assert rt.kit.led.is_lit
    finally:
        rt.close()
