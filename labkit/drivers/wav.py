"""Reading and writing WAV audio in the kit's one format: 16 kHz, mono, int16.

Anything else a teacher uploads (44.1 kHz stereo from a phone, 8-bit, float) is converted with a
polyphase resampler; anything that is not a WAV at all is a clear error, never a crash.

The header is checked before a sample is read (`check_wav_header`): the rate must be 8–48 kHz,
at most 2 channels, and the clip no longer than the caller's cap. A 32 KB file declaring a rate
of 1 000 003 Hz would otherwise cost ~1 GB and many seconds to resample, and one at 1 Hz a
16000-fold upsampling. Decoding and resampling then run in the kit's bounded worker pool
(labkit.workers), so a handful of bad uploads at once cannot take the server's memory.
"""

from __future__ import annotations

import io
import os
import struct
import warnings
import wave
from math import gcd
from pathlib import Path

from dataclasses import dataclass
from typing import Any

import numpy as np

from labkit.errors import LabkitError
from labkit.fsutil import atomic_write_bytes

RATE = 16000
MAX_SECONDS = 600           # a WAV file given by path (the simulated microphone's recording)
MAX_UPLOAD_SECONDS = 60     # a WAV given as bytes (an upload, espeak-ng's answer)
MIN_RATE, MAX_RATE = 8000, 48000
MAX_CHANNELS = 2
_HEADER_BYTES = 64 * 1024
_MAX_CHUNKS = 64


def N_(message: str) -> str:
    """Mark a message id for extraction; callers with a locale translate `WavRefused`."""
    return message


class WavRefused(LabkitError):
    """A WAV whose header is outside the kit's limits; `msgid`/`params` for translation."""

    def __init__(self, msgid: str, **params: Any) -> None:
        self.msgid = msgid
        self.params = params
        self.fix_msgid = N_("Record it again, or export it as a PCM WAV file (8 to 48 kHz, "
                            "mono or stereo, up to %(max)s seconds).")
        super().__init__(msgid % params, code="bad_audio",
                         fix=self.fix_msgid % {"max": params.get("max", MAX_UPLOAD_SECONDS)})


@dataclass(frozen=True)
class WavHeader:
    rate: int
    channels: int
    bits: int
    frames: int

    @property
    def seconds(self) -> float:
        return self.frames / self.rate if self.rate else 0.0


def check_wav_header(head: bytes, total_size: int, name: str = "the upload", *,
                     max_seconds: float = MAX_UPLOAD_SECONDS) -> WavHeader:
    """Read rate, channels and length from a RIFF/RIFX header and refuse what is out of bounds.

    `head` is the start of the file (the first 64 KB is plenty), `total_size` its full length:
    a streamed WAV (espeak-ng --stdout, arecord) declares a placeholder data size, so the
    length is what the file really holds after the data chunk starts.
    """
    if len(head) < 12 or head[:4] not in (b"RIFF", b"RIFX") or head[8:12] != b"WAVE":
        raise LabkitError(f"{name} is not a readable WAV file", code="bad_audio",
                          fix="record or export it again as a PCM WAV file")
    order = "<" if head[:4] == b"RIFF" else ">"
    pos, fmt = 12, None
    for _ in range(_MAX_CHUNKS):
        if pos + 8 > len(head):
            break
        chunk, size = head[pos:pos + 4], struct.unpack(order + "I", head[pos + 4:pos + 8])[0]
        if chunk == b"fmt " and pos + 24 <= len(head):
            _fmt_tag, channels, rate = struct.unpack(order + "HHI", head[pos + 8:pos + 16])
            block_align, bits = struct.unpack(order + "HH", head[pos + 20:pos + 24])
            fmt = (channels, rate, block_align, bits)
        elif chunk == b"data":
            if fmt is None:
                break
            channels, rate, block_align, bits = fmt
            if not MIN_RATE <= rate <= MAX_RATE:
                raise WavRefused(N_("The recording's sample rate is %(rate)s Hz; the kit takes "
                                    "8000 to 48000 Hz."), rate=rate, max=int(max_seconds))
            if not 1 <= channels <= MAX_CHANNELS:
                raise WavRefused(N_("The recording has %(channels)s channels; the kit takes "
                                    "mono or stereo."), channels=channels, max=int(max_seconds))
            frame_bytes = block_align or channels * max(1, bits // 8)
            available = max(0, total_size - (pos + 8))
            data_bytes = available if size in (0, 0xFFFFFFFF) else min(size, available)
            header = WavHeader(rate, channels, bits, data_bytes // max(1, frame_bytes))
            if header.seconds > max_seconds:
                raise WavRefused(N_("The recording is longer than %(max)s seconds."),
                                 max=int(max_seconds))
            return header
        pos += 8 + size + (size & 1)
    raise LabkitError(f"{name} is not a readable WAV file (no audio format or data found)",
                      code="bad_audio", fix="record or export it again as a PCM WAV file")


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
        samples = resampler()(samples, target_rate // g, int(rate) // g)
    return np.clip(np.round(samples * 32767.0), -32768, 32767).astype(np.int16)


def resampler() -> Any:
    """scipy's polyphase resampler, imported on first use: the import costs ~1 CPU-s (several
    seconds on a busy Pi), which a kit only pays when a clip is not at 16 kHz. Whoever will
    resample soon (the speaker before its first sentence) can call this early."""
    from scipy.signal import resample_poly

    return resample_poly


def read_wav(source: str | os.PathLike[str] | bytes, target_rate: int = RATE, *,
             max_seconds: float | None = None) -> np.ndarray:
    """Read a WAV file (path or bytes) as int16 mono samples at `target_rate`.

    `max_seconds` caps the clip's length (default: 60 s for bytes, 10 minutes for a path),
    checked from the header before anything is decoded.
    """
    from labkit.workers import heavy_work

    is_bytes = isinstance(source, (bytes, bytearray))
    name = "the upload" if is_bytes else str(source)
    if max_seconds is None:
        max_seconds = MAX_UPLOAD_SECONDS if is_bytes else MAX_SECONDS
    if is_bytes:
        head, total = bytes(source[:_HEADER_BYTES]), len(source)
    else:
        try:
            with open(source, "rb") as f:
                head = f.read(_HEADER_BYTES)
                total = os.fstat(f.fileno()).st_size
        except FileNotFoundError:
            raise LabkitError(f"audio file {name} does not exist", code="bad_audio",
                              fix="check the path") from None
        except OSError as exc:
            raise LabkitError(f"{name} cannot be read ({exc.strerror})", code="bad_audio",
                              fix="check the path") from None
    header = check_wav_header(head, total, name, max_seconds=max_seconds)
    if header.frames == 0:
        raise LabkitError(f"{name} has no audio in it", code="bad_audio",
                          fix="record at least half a second")
    return heavy_work(_decode_wav, source, name, max_seconds, target_rate)


def _decode_wav(source: str | os.PathLike[str] | bytes, name: str, max_seconds: float,
                target_rate: int) -> np.ndarray:
    from scipy.io import wavfile

    stream = io.BytesIO(source) if isinstance(source, (bytes, bytearray)) else source

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
    # the header was checked; this guards against a file that changed in between
    if not MIN_RATE <= rate <= MAX_RATE:
        raise WavRefused(N_("The recording's sample rate is %(rate)s Hz; the kit takes "
                            "8000 to 48000 Hz."), rate=rate, max=int(max_seconds))
    if data.ndim == 2 and data.shape[1] > MAX_CHANNELS:
        raise WavRefused(N_("The recording has %(channels)s channels; the kit takes "
                            "mono or stereo."), channels=data.shape[1], max=int(max_seconds))
    if data.shape[0] > rate * max_seconds:
        raise WavRefused(N_("The recording is longer than %(max)s seconds."),
                         max=int(max_seconds))
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
