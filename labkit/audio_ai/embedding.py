"""Run the pretrained speech embedding (labkit.models.speech_embedding) on clips.

    emb = SpeechEmbedder.from_store(store)     # None when `labkit models fetch` has not run
    emb.clip_vector(samples)                   # float32 [192]: mean + max of the windows

Teachable command words (`commands.CommandWords`) and /learn sound projects use it when it is
installed; without it they fall back to `features.clip_features` (log-mel).
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from labkit.audio_ai.features import speech_bounds
from labkit.models.speech_embedding import (EMB_DIM, HOP_FRAMES, MEL_FILE, MODEL_NAME,
                                            RATE, WINDOW_FRAMES)

log = logging.getLogger(__name__)

DIM = 2 * EMB_DIM                 # mean + max over the windows of a clip
#: every clip is centred in at least this much audio, so a short word still fills windows
MIN_SECONDS = 1.5
MAX_SECONDS = 3.0
CONTEXT_SECONDS = 0.1
FEATURES_NAME = "speech_embedding/1"


class SpeechEmbedder:
    """Runs the two graphs with ONNX Runtime; `clip_vector(samples)` → float32 [192]."""

    def __init__(self, mel_bytes: bytes, emb_bytes: bytes, threads: int = 1) -> None:
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        cpu = ["CPUExecutionProvider"]
        self.mel = ort.InferenceSession(mel_bytes, opts, providers=cpu)
        self.emb = ort.InferenceSession(emb_bytes, opts, providers=cpu)
        self._mel_in = self.mel.get_inputs()[0].name
        self._emb_in = self.emb.get_inputs()[0].name

    @classmethod
    def from_store(cls, store: Any, threads: int = 1) -> "SpeechEmbedder | None":
        """The embedder if `labkit models fetch` installed it, else None (log-mel fallback)."""
        if store is None:
            return None
        try:
            if not store.has(MODEL_NAME):
                return None
            emb = store.path(MODEL_NAME)
            mel = store.file(MODEL_NAME, MEL_FILE)
            return cls(mel.read_bytes(), emb.read_bytes(), threads=threads)
        except Exception as exc:  # a damaged or unreadable model: fall back, say why
            log.warning("speech embedding unusable: %s", getattr(exc, "message", exc))
            return None

    def mel_frames(self, samples: np.ndarray) -> np.ndarray:
        """[frames, 32] mel of int16 audio, scaled as the embedding expects (x/10 + 2)."""
        x = np.asarray(samples).reshape(-1)
        if not np.issubdtype(x.dtype, np.integer):
            x = np.clip(np.round(x * 32767.0), -32768, 32767)
        (out,) = self.mel.run(None, {self._mel_in: x.astype(np.float32)[None, :]})
        return np.squeeze(np.asarray(out), axis=(0, 1)) / 10.0 + 2.0

    def embeddings(self, samples: np.ndarray) -> np.ndarray:
        """[windows, 96]: one vector per 76-frame window, hop 8 frames."""
        spec = self.mel_frames(samples)
        starts = range(0, max(1, spec.shape[0] - WINDOW_FRAMES + 1), HOP_FRAMES)
        windows = [spec[s:s + WINDOW_FRAMES] for s in starts]
        windows = [w for w in windows if w.shape[0] == WINDOW_FRAMES]
        if not windows:
            raise ValueError("clip too short for one embedding window")
        batch = np.stack(windows)[..., None].astype(np.float32)
        (out,) = self.emb.run(None, {self._emb_in: batch})
        return np.asarray(out, np.float32).reshape(len(windows), EMB_DIM)

    def clip_vector(self, samples: np.ndarray) -> np.ndarray:
        """One vector for a spoken word or sound: mean and max of its window embeddings.

        The loud part (labkit.audio_ai.features.speech_bounds, plus 0.1 s) is centred in at
        least 1.5 s of silence, so where the word sits in the recording and how much quiet
        surrounds it do not change the answer.
        """
        return self.vectors([samples])[0]

    def vectors(self, clips: list[np.ndarray]) -> np.ndarray:
        out = np.zeros((len(clips), DIM), np.float32)
        for i, clip in enumerate(clips):
            e = self.embeddings(centre_clip(clip))
            out[i, :EMB_DIM] = e.mean(axis=0)
            out[i, EMB_DIM:] = e.max(axis=0)
        return out


def centre_clip(samples: np.ndarray) -> np.ndarray:
    """The loud part of a clip with a little context, centred in ≥ MIN_SECONDS of zeros."""
    x = np.asarray(samples).reshape(-1)
    if not np.issubdtype(x.dtype, np.integer):
        x = np.clip(np.round(x * 32767.0), -32768, 32767)
    x = x.astype(np.int16)
    bounds = speech_bounds(x)
    if bounds is not None:
        ctx = int(CONTEXT_SECONDS * RATE)
        x = x[max(0, bounds[0] - ctx):bounds[1] + ctx]
    x = x[:int(MAX_SECONDS * RATE)]
    n = max(int(MIN_SECONDS * RATE), x.size)
    out = np.zeros(n, np.int16)
    start = (n - x.size) // 2
    out[start:start + x.size] = x
    return out
