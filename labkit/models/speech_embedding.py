"""A pretrained speech embedding for every teachable sound model (command words, /learn sound).

Google's speech_embedding network, as re-implemented in ONNX inside the `openwakeword==0.5.1`
wheel (0.6.0 ships no models): `melspectrogram.onnx` turns 16 kHz audio into 32-band mel
frames (10 ms hop); `embedding_model.onnx` turns each window of 76 frames (hop 8) into a 96-d
vector. It was trained on a large amount of speech, so a few examples of a word recorded by
one voice generalise to other voices and noisy rooms far better than log-mel features do
(measured in `bench/audio.py`). The wake-word models of the wheel are not used.

The runner is `labkit.audio_ai.embedding.SpeechEmbedder` (this module only says where the
model comes from, so the model layer never imports the audio layer above it).

Fetched like every other model (`labkit models fetch`): the builder checks the wheel's sha256,
copies the two files, and records both licence statements of the wheel (its README says the
code is Apache-2.0 and the embedding re-implements Google's Apache-2.0 TF Hub module, and also
that "all of the included pre-trained models" are CC BY-NC-SA 4.0).
"""

from __future__ import annotations

import hashlib
import re
import zipfile
from pathlib import Path
from typing import Any

PACKAGE = "openwakeword"
VERSION = "0.5.1"
WHEEL_SHA256 = "015467e49f08b0ef8efa433690ce70566abb72f7c36501a6fa893762b4ddc559"
MODEL_NAME = "speech_embedding"
MEL_MEMBER = "openwakeword/resources/models/melspectrogram.onnx"
EMB_MEMBER = "openwakeword/resources/models/embedding_model.onnx"
MEL_FILE = "melspectrogram.onnx"
EMB_FILE = "embedding_model.onnx"
RATE = 16000
WINDOW_FRAMES = 76
HOP_FRAMES = 8
EMB_DIM = 96
LICENCE_NAME = "Apache-2.0 (code, embedding) / CC-BY-NC-SA-4.0 (README: included models)"


def _readme_statements(metadata: str) -> list[str]:
    """The README paragraphs that speak of the embedding model and of the models' licence."""
    found = []
    for para in re.split(r"\n\s*\n", metadata):
        flat = " ".join(para.split())
        if ("speech_embedding" in flat and "license" in flat.lower()) or \
                flat.startswith("All of the code in this repository"):
            found.append(flat)
    return found


def build_speech_embedding(ctx: Any) -> Any:
    """Builder hook (labkit.models.sources): the two ONNX files + both licence statements."""
    from labkit.models.errors import ModelError
    from labkit.models.fetch import wheel_licence
    from labkit.models.sources import BuildResult

    archive = Path(ctx.archives[PACKAGE])
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    if digest != WHEEL_SHA256:
        raise ModelError(f"{archive.name} has sha256 {digest}, expected {WHEEL_SHA256}",
                         code="bad_source",
                         fix=f"delete it from the wheel cache and fetch {PACKAGE}=={VERSION} "
                             "again")
    with zipfile.ZipFile(archive) as zf:
        for member, name in ((MEL_MEMBER, MEL_FILE), (EMB_MEMBER, EMB_FILE)):
            (ctx.out_dir / name).write_bytes(zf.read(member))
        meta_name = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))
        metadata = zf.read(meta_name).decode("utf-8", "replace")
        licence_file = wheel_licence(zf)
    statements = _readme_statements(metadata)
    if len(statements) < 2:
        raise ModelError(f"the {PACKAGE} README no longer states the models' licences",
                         code="bad_source", fix=f"pin {PACKAGE}=={VERSION}")
    licence = ("Statements from the wheel's README (METADATA), quoted:\n\n"
               + "\n\n".join(f"> {s}" for s in statements)
               + "\n\nThe wheel's LICENSE file:\n\n" + licence_file)
    return BuildResult(
        file=EMB_FILE, licence=licence,
        normalisation={"audio": "mono int16 PCM as float32 (not scaled)", "sample_rate": RATE,
                       "mel_transform": "x / 10 + 2", "window_frames": WINDOW_FRAMES,
                       "hop_frames": HOP_FRAMES},
        notes="Google speech_embedding re-implemented by openWakeWord; mel front end "
              f"{MEL_FILE}; only these two files of the wheel are used",
        extra={"mel_file": MEL_FILE, "embedding_dim": EMB_DIM,
               "paths_in_wheel": [MEL_MEMBER, EMB_MEMBER], "wheel_sha256": WHEEL_SHA256})


def _model_sources() -> list[Any]:
    from labkit.models.sources import ModelSource

    return [ModelSource(
        name=MODEL_NAME, task="speech_embedding", backend="onnx", package=PACKAGE,
        version=VERSION, builder="labkit.models.speech_embedding:build_speech_embedding",
        licence_name=LICENCE_NAME,
        description="speech embedding (Google speech_embedding via openWakeWord): 76 mel "
                    "frames -> 96-d, for teachable command words and sound projects")]


try:
    MODEL_SOURCES = _model_sources()
except ImportError:  # pragma: no cover - the model store is not installed
    MODEL_SOURCES = []
