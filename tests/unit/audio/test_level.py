"""SoundLevel: dBFS of known tones, the dB estimate, hysteresis events, clipping, odd clips."""

from __future__ import annotations

import numpy as np
import pytest
from gpiozero import PWMLED

from labkit.audio_ai.level import SoundLevel, clipped_fraction, dbfs
from tests.helpers import wait_until

RATE = 16000


def sine(amp: float, seconds: float = 1.0, freq: float = 1000.0) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    return np.round(amp * 32767 * np.sin(2 * np.pi * freq * t)).astype(np.int16)


@pytest.mark.parametrize("amp", [1.0, 0.5, 0.1, 0.01])
@pytest.mark.parametrize("freq", [250.0, 1000.0, 3000.0])
def test_known_sine_reads_right_within_1_db(amp: float, freq: float) -> None:
    expected = 20 * np.log10(amp)          # AES17: full-scale sine = 0 dBFS
    level = SoundLevel().process(sine(amp, 1.0, freq))
    assert level.dbfs == pytest.approx(expected, abs=1.0)
    assert dbfs(sine(amp, 1.0, freq)) == pytest.approx(expected, abs=1.0)
    assert level.db == pytest.approx(expected + level.offset_db, abs=1.0)
    level.close()


def test_meter_follows_a_step_with_fast_weighting() -> None:
    level = SoundLevel()
    level.process(sine(0.01, 1.0))
    assert level.dbfs == pytest.approx(-40, abs=1)
    level.process(sine(0.5, 0.125))   # one time constant into a louder tone
    assert -12 < level.dbfs < -6
    level.process(sine(0.5, 1.0))
    assert level.dbfs == pytest.approx(-6.02, abs=0.5)
    level.close()


def test_loud_activates_with_hysteresis_and_drives_an_led() -> None:
    level = SoundLevel(threshold_db=80)            # db = dBFS + 100
    led = PWMLED(17)
    fired: list[str] = []
    level.when_activated = lambda: fired.append("on")
    level.when_deactivated = lambda: fired.append("off")
    level.process(sine(0.01))                       # 60 dB
    assert not level.is_active
    level.process(sine(0.3))                        # ~89.5 dB
    assert level.is_active and fired == ["on"]
    led.source = level.values
    # gpiozero's source thread copies the level over: wait for it (late on a busy machine)
    assert wait_until(lambda: led.value == pytest.approx(level.value, abs=0.01)), \
        (led.value, level.value)
    assert led.value > 0.8
    level.process(sine(0.075))                      # ~77.5 dB: inside the 3 dB hysteresis
    assert level.is_active
    level.process(sine(0.01))
    assert not level.is_active and fired == ["on", "off"]
    assert level.above(50).is_active and not level.above(70).is_active
    led.source = None
    led.close()
    level.close()


def test_calibrate_sets_the_offset() -> None:
    level = SoundLevel().process(sine(0.1))
    level.calibrate(74.0)
    assert level.db == pytest.approx(74.0, abs=0.01)
    level.close()


def test_clipped_audio_is_flagged() -> None:
    loud = np.clip(sine(1.0).astype(np.int32) * 3, -32768, 32767).astype(np.int16)
    assert clipped_fraction(loud) > 0.3
    assert clipped_fraction(sine(0.5)) == 0.0
    level = SoundLevel().process(loud)
    assert level.clipping and level.reading()["clipping"] is True
    level.close()


def test_empty_and_tiny_clips() -> None:
    assert dbfs(np.zeros(0, np.int16)) == -100.0
    assert dbfs(np.zeros(1600, np.int16)) == -100.0
    level = SoundLevel()
    level.feed(np.zeros(0, np.int16))
    level.process(sine(0.5, 0.1))        # 0.1 s clip
    assert level.dbfs < 0 and level.reading()["value"] >= 0
    level.close()
