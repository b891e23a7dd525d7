"""Log-mel features for the kit's sound models, in one place so training and live use match.

A spoken command word and the page's spectrogram both look at the same picture: 40 mel bands,
25 ms windows every 10 ms, natural-log energy. The short-time FFT is scipy.signal's (never a
hand-rolled one); the mel filterbank is a small matrix built once per (rate, n_fft, bands).

The teachable 'sound' kind of the learn layer imports `log_mel` and `clip_features`, so their
signatures are kept stable:

    log_mel(samples, rate=16000) -> float32 [frames, 40]
    clip_features(samples, rate=16000) -> float32 [32 * 40]  (trimmed, resized, normalised)
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy import ndimage, signal

RATE = 16000
N_MELS = 40
WIN_SECONDS = 0.025
HOP_SECONDS = 0.010
N_FRAMES = 32          # every clip is resized to this many frames for the classifier
LOG_FLOOR = 1e-4      # about a quiet microphone's noise (-60 dBFS): digital silence looks like a room


def _hz_to_mel(hz: np.ndarray | float) -> np.ndarray:
    return 2595.0 * np.log10(1.0 + np.asarray(hz, dtype=np.float64) / 700.0)


def _mel_to_hz(mel: np.ndarray | float) -> np.ndarray:
    return 700.0 * (10.0 ** (np.asarray(mel, dtype=np.float64) / 2595.0) - 1.0)


@lru_cache(maxsize=8)
def mel_filterbank(rate: int = RATE, n_fft: int = 512, n_mels: int = N_MELS,
                   fmin: float = 20.0, fmax: float | None = None) -> np.ndarray:
    """Triangular HTK-style mel filters, shape [n_mels, n_fft // 2 + 1] (read-only, cached)."""
    fmax = rate / 2 if fmax is None else fmax
    freqs = np.linspace(0.0, rate / 2, n_fft // 2 + 1)
    edges = _mel_to_hz(np.linspace(_hz_to_mel(fmin), _hz_to_mel(fmax), n_mels + 2))
    lower, centre, upper = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    rising = (freqs[None, :] - lower) / (centre - lower)
    falling = (upper - freqs[None, :]) / (upper - centre)
    bank = np.maximum(0.0, np.minimum(rising, falling)).astype(np.float32)
    bank.setflags(write=False)
    return bank


def to_float(samples: np.ndarray) -> np.ndarray:
    """int16 (or any integer PCM) → float32 in [-1, 1]; float input is taken as already scaled."""
    x = np.asarray(samples)
    if x.ndim != 1:
        x = x.reshape(-1)
    if np.issubdtype(x.dtype, np.integer):
        return (x.astype(np.float32) / 32768.0)
    return x.astype(np.float32, copy=False)


def frame_params(rate: int = RATE) -> tuple[int, int, int]:
    """(window, hop, n_fft) in samples for a sample rate: 25 ms, 10 ms, next power of two."""
    win = int(round(WIN_SECONDS * rate))
    hop = int(round(HOP_SECONDS * rate))
    n_fft = 1 << (win - 1).bit_length()
    return win, hop, n_fft


def power_spectrogram(samples: np.ndarray, rate: int = RATE) -> np.ndarray:
    """|STFT|² with a Hann window, shape [frames, n_fft // 2 + 1], float32.

    Frames are only those that fit wholly in the clip (no edge padding), so a clip shorter
    than one window is zero-padded to exactly one frame instead of failing.
    """
    win, hop, n_fft = frame_params(rate)
    x = to_float(samples)
    if x.size < win:
        x = np.pad(x, (0, win - x.size))
    _f, _t, z = signal.stft(x, fs=rate, window="hann", nperseg=win, noverlap=win - hop,
                            nfft=n_fft, boundary=None, padded=False, detrend=False)
    # scipy scales by 1/sum(window); undo it so energies match the waveform's level
    z = z * np.sum(signal.get_window("hann", win))
    return (np.abs(z.T) ** 2).astype(np.float32)


def log_mel(samples: np.ndarray, rate: int = RATE, n_mels: int = N_MELS) -> np.ndarray:
    """40-band log-mel energies of a mono clip: float32 array [frames, n_mels].

    `samples` is 16 kHz mono int16 (the kit's format) or float in [-1, 1]; one frame per 10 ms
    (25 ms Hann window), so a 1 s clip gives 98 frames. Natural log, floor 1e-10.
    """
    power = power_spectrogram(samples, rate)
    _win, _hop, n_fft = frame_params(rate)
    mel = power @ mel_filterbank(rate, n_fft, n_mels).T
    return np.log(np.maximum(mel, LOG_FLOOR)).astype(np.float32)


def frame_energy_db(samples: np.ndarray, rate: int = RATE) -> np.ndarray:
    """RMS level of each 25 ms / 10 ms frame in dBFS (AES17: a full-scale sine is 0 dBFS)."""
    win, hop, _ = frame_params(rate)
    x = to_float(samples)
    if x.size < win:
        x = np.pad(x, (0, win - x.size))
    frames = np.lib.stride_tricks.sliding_window_view(x, win)[::hop]
    rms = np.sqrt(np.mean(frames.astype(np.float64) ** 2, axis=1))
    return (20.0 * np.log10(np.maximum(rms * np.sqrt(2.0), 1e-9))).astype(np.float32)


def speech_bounds(samples: np.ndarray, rate: int = RATE, *, margin_db: float = 25.0,
                  floor_dbfs: float = -55.0, over_noise_db: float = 8.0,
                  pad_frames: int = 3) -> tuple[int, int] | None:
    """Sample range [start, end) of the loud part of a clip, or None if it is all quiet.

    A frame counts as sound when it is within `margin_db` of the loudest frame, above
    `floor_dbfs`, and — in a noisy room — `over_noise_db` above the noise floor (the quietest
    tenth of the frames; never demanding more than 6 dB under the peak, so a clip that is all
    speech keeps its loud part). The span runs from the first to the last such frame (so the pause
    inside "开 灯" stays in), padded by a few frames.
    """
    db = frame_energy_db(samples, rate)
    if db.size == 0:
        return None
    peak = float(db.max())
    noise = float(np.percentile(db, 10))
    threshold = max(peak - margin_db, floor_dbfs, min(noise + over_noise_db, peak - 6.0))
    loud = np.flatnonzero(db >= threshold)
    if loud.size == 0:
        return None
    win, hop, _ = frame_params(rate)
    first = max(0, int(loud[0]) - pad_frames)
    last = min(db.size - 1, int(loud[-1]) + pad_frames)
    n = np.asarray(samples).size
    return first * hop, min(n, last * hop + win)


def trim(samples: np.ndarray, rate: int = RATE, **kwargs: float) -> np.ndarray:
    """The loud part of a clip (see `speech_bounds`); the clip unchanged if nothing is loud."""
    bounds = speech_bounds(samples, rate, **kwargs)  # type: ignore[arg-type]
    x = np.asarray(samples)
    return x if bounds is None else x[bounds[0]:bounds[1]]


def resize_frames(features: np.ndarray, n_frames: int = N_FRAMES) -> np.ndarray:
    """Stretch or squeeze [frames, bands] to exactly `n_frames` frames (linear interpolation)."""
    f = np.asarray(features, dtype=np.float32)
    if f.shape[0] == n_frames:
        return f.copy()
    if f.shape[0] == 1:
        return np.repeat(f, n_frames, axis=0)
    return ndimage.zoom(f, (n_frames / f.shape[0], 1.0), order=1, mode="nearest",
                        grid_mode=False).astype(np.float32)[:n_frames]


def normalise(features: np.ndarray) -> np.ndarray:
    """Per-clip standardisation (zero mean, unit variance over the whole clip).

    Why: a child close to the microphone and one across the room differ mostly by a constant
    in log energy; removing each clip's mean and scale makes the classifier see the shape of
    the word, not the loudness.
    """
    f = np.asarray(features, dtype=np.float32)
    std = float(f.std())
    return ((f - f.mean()) / (std if std > 1e-6 else 1.0)).astype(np.float32)


def clip_features(samples: np.ndarray, rate: int = RATE, n_frames: int = N_FRAMES) -> np.ndarray:
    """One fixed-length vector for a spoken word: trim → log-mel → 32 frames → standardise.

    Returns float32 [n_frames * 40]; the same function is used when examples are recorded,
    when the classifier is trained and when it listens, so the three always agree.
    """
    spoken = trim(samples, rate)
    return normalise(resize_frames(log_mel(spoken, rate), n_frames)).reshape(-1)
