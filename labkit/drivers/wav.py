"""Reading and writing WAV audio in the kit's one format: 16 kHz, mono, int16.

Anything else a teacher uploads (44.1 kHz stereo from a phone, 8-bit, float) is converted with a
polyphase resampler; anything that is not a WAV at all is a clear error, never a crash.
"""

from __future__ import annotations

import io
import os
import struct
import warnings
import wave
from math import gcd
from pathlib import Path

import numpy as np

from labkit.errors import LabkitError
from labkit.fsutil import atomic_write_bytes

RATE = 16000
MAX_SECONDS = 600


def to_int16_mono(data: np.ndarray, rate: int, target_rate: int = RATE) -> np.ndarray:
    """Convert any PCM array (int/float, mono or multi-channel) to int16 mono at target_rate."""
    if data.ndim == 2:
        data = data.astype(np.float64).mean(axis=1)
    if data.dtype == np.uint8:
        samples = (data.astype(np.float64) - 128.0) / 128.0
    elif data.dtype == np.int16:
        samples = data.astype(np.float64) / 32768.0
    elif data.dtype == np.int32:
        samples = data.astype(np.float64) / 2147483648.0
    elif np.issubdtype(data.dtype, np.floating):
        samples = data.astype(np.float64)
        peak = np.max(np.abs(samples)) if samples.size else 0.0
        if peak > 1.0 and peak > 2.0:  # float data in int16 scale
            samples = samples / 32768.0
    else:
        raise LabkitError(f"audio sample type {data.dtype} is not supported", code="bad_audio",
                          fix="save the recording as 16-bit PCM WAV")
    if rate != target_rate and samples.size:
        g = gcd(int(rate), int(target_rate))
        from scipy.signal import resample_poly  # heavy (~1 CPU-s): only when resampling

        samples = resample_poly(samples, target_rate // g, int(rate) // g)
    return np.clip(np.round(samples * 32767.0), -32768, 32767).astype(np.int16)


def read_wav(source: str | os.PathLike[str] | bytes, target_rate: int = RATE) -> np.ndarray:
    """Read a WAV file (path or bytes) as int16 mono samples at `target_rate`."""
    name = "the upload" if isinstance(source, (bytes, bytearray)) else str(source)
    stream = io.BytesIO(source) if isinstance(source, (bytes, bytearray)) else source
    from scipy.io import wavfile  # heavy (scipy.io pulls scipy.sparse): only when reading

    try:
        with warnings.catch_warnings():
            # streamed WAVs (espeak-ng --stdout, arecord) carry a placeholder length
            warnings.simplefilter("ignore", wavfile.WavFileWarning)
            rate, data = wavfile.read(stream)
    except FileNotFoundError:
        raise LabkitError(f"audio file {name} does not exist", code="bad_audio",
                          fix="check the path") from None
    except (ValueError, EOFError, OSError, struct.error) as exc:
        raise LabkitError(f"{name} is not a readable WAV file ({exc})", code="bad_audio",
                          fix="record or export it again as a PCM WAV file") from None
    if rate <= 0 or data.size == 0:
        raise LabkitError(f"{name} has no audio in it", code="bad_audio",
                          fix="record at least half a second")
    if data.shape[0] > rate * MAX_SECONDS:
        raise LabkitError(f"{name} is longer than {MAX_SECONDS // 60} minutes", code="bad_audio",
                          fix="cut it into shorter clips")
    return to_int16_mono(data, rate, target_rate)


def wav_bytes(samples: np.ndarray, rate: int = RATE) -> bytes:
    """Encode int16 mono samples as a WAV file in memory."""
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(np.asarray(samples, dtype=np.int16).tobytes())
    return buf.getvalue()


def write_wav(path: str | os.PathLike[str], samples: np.ndarray, rate: int = RATE) -> Path:
    """Write a WAV atomically (see labkit.fsutil)."""
    return atomic_write_bytes(path, wav_bytes(samples, rate))
