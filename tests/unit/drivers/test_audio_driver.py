import io
import shutil

import numpy as np
import pytest
from scipy.io import wavfile

from labkit.drivers.audio import BLOCK, Microphone, SimulatedMicSource, Speaker
from labkit.drivers.tts import synthesize
from labkit.drivers.wav import RATE, read_wav, wav_bytes, write_wav
from labkit.errors import LabkitError


def test_simulated_microphone_yields_16k_int16_blocks():
    with Microphone("simulated", hardware="sim") as mic:
        with mic.listen() as blocks:
            block = next(blocks)
    assert block.dtype == np.int16 and block.shape == (BLOCK,)
    assert np.abs(block).max() < 200  # a quiet room


def test_injected_audio_is_heard_by_every_listener():
    tone = (np.sin(2 * np.pi * 440 * np.arange(RATE // 2) / RATE) * 10000).astype(np.int16)
    with Microphone(SimulatedMicSource(realtime=False)) as mic:
        a, b = mic.listen(maxblocks=4096), mic.listen(maxblocks=4096)
        mic.inject(tone)
        got_a = np.concatenate([a.get(timeout=2) for _ in range(40)])
        got_b = np.concatenate([b.get(timeout=2) for _ in range(40)])
        a.close(), b.close()
    assert np.abs(got_a).max() > 9000 and np.abs(got_b).max() > 9000


def test_record_returns_requested_length():
    with Microphone("simulated", hardware="sim") as mic:
        clip = mic.record(0.2)
    assert clip.size == int(0.2 * RATE)


def test_read_wav_converts_rate_channels_and_depth():
    t = np.arange(44100) / 44100
    stereo = np.stack([np.sin(2 * np.pi * 300 * t)] * 2, axis=1)
    buf = io.BytesIO()
    wavfile.write(buf, 44100, (stereo * 20000).astype(np.int16))
    samples = read_wav(buf.getvalue())
    assert samples.dtype == np.int16 and samples.size == RATE
    assert 19000 < np.abs(samples).max() <= 20100
    buf8 = io.BytesIO()
    wavfile.write(buf8, 8000, ((np.sin(2 * np.pi * 300 * t[:8000]) * 100) + 128).astype(np.uint8))
    assert read_wav(buf8.getvalue()).size == RATE


@pytest.mark.parametrize("data", [b"", b"RIFF1234WAVEjunk", b"not audio at all" * 10])
def test_garbage_wav_is_a_clear_error(data):
    with pytest.raises(LabkitError) as err:
        read_wav(data)
    assert err.value.code == "bad_audio" and err.value.fix


def test_truncated_wav_header_is_a_clear_error():
    whole = wav_bytes(np.ones(1600, np.int16))
    for cut in (12, 30, 40):
        with pytest.raises(LabkitError) as err:
            read_wav(whole[:cut])
        assert err.value.code == "bad_audio"


def test_empty_wav_is_a_clear_error():
    with pytest.raises(LabkitError, match="no audio"):
        read_wav(wav_bytes(np.zeros(0, np.int16)))


def test_write_wav_is_atomic_and_roundtrips(tmp_path):
    samples = (np.arange(1600) % 200 - 100).astype(np.int16)
    path = write_wav(tmp_path / "a" / "clip.wav", samples)
    assert np.array_equal(read_wav(path), samples)
    assert [p.name for p in path.parent.iterdir()] == ["clip.wav"]


def test_simulated_speaker_records_what_it_said():
    spk = Speaker(hardware="sim")
    spk.play(np.zeros(1600, np.int16), text="hi")
    assert spk.played[-1] == {"seconds": 0.1, "text": "hi"}


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="needs espeak-ng (make test installs it)")
@pytest.mark.parametrize("text, lang", [("你好，同学们", "zh_CN"), ("hello class", "en")])
def test_tts_speaks_chinese_and_english(text, lang):
    samples = synthesize(text, lang)
    assert samples.dtype == np.int16 and samples.size > RATE * 0.4
    assert np.abs(samples).max() > 3000


def test_tts_refuses_empty_and_unknown_language():
    with pytest.raises(LabkitError):
        synthesize("   ")
    with pytest.raises(LabkitError, match="no speech voice"):
        synthesize("bonjour", "fr")
