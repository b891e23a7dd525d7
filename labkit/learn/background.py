"""The background class of a sound project, and refusing recordings with no sound in them.

A sound classifier has to answer *something* for every clip it hears, so one taught only
words answers a word in a quiet room ("开始 96%" in silence). Every sound project therefore
has a background class (`ClassInfo.role == "background"`), made with the project: the
student fills it with the room ("record the room"), and training tops it up with generated
room-like noise (white, pink and brown, −75…−40 dBFS, and digital silence) so it is never
empty. Word classes refuse a clip whose loudest tenth of a second is below `SILENT_DBFS`:
such a clip teaches the word class what silence sounds like.

Generated clips are pure functions of their index (seeded), hold nothing of a child, and are
stored as ordinary samples (source "generated") through the dataset's own write path.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from labkit.errors import LabkitError
from labkit.errors import lazy_gettext as _

RATE = 16000
ROLE = "background"
#: a clip whose loudest 100 ms is quieter than this has no sound in it (speech near the
#: microphone is −30…−10 dBFS; the simulated room is −60, a quiet classroom about −55)
SILENT_DBFS = -45.0
WINDOW = RATE // 10
#: training makes sure the background class has at least this many clips
MIN_BACKGROUND = 10
GENERATED_LEVELS_DBFS = (-75.0, -65.0, -55.0, -48.0, -40.0)
COLOURS = ("white", "pink", "brown")
GENERATED_SOURCE = "generated"


def loudest_dbfs(samples: Any) -> float:
    """The level (dBFS, AES17) of the loudest 100 ms of a clip: one short word in a long
    recording is still heard, which a whole-clip RMS would average away."""
    from labkit.audio_ai.level import dbfs

    x = np.asarray(samples, dtype=np.float64).reshape(-1)
    if x.size <= WINDOW:
        return dbfs(x)
    power = np.convolve(x * x, np.ones(WINDOW), mode="valid")
    start = int(power.argmax())
    return dbfs(x[start:start + WINDOW])


def check_not_silent(samples: Any) -> None:
    """Raise a clear error for a clip with no sound in it (for word classes)."""
    level = loudest_dbfs(samples)
    if level < SILENT_DBFS:
        raise LabkitError(
            _("The recording has no sound in it (its loudest moment is %(db)s dBFS).",
              db=f"{level:.0f}"),
            code="silent",
            fix=_("Speak closer to the microphone while you hold Record. Quiet room "
                  "sound belongs in the background class."))


def generated_clip(index: int, seconds: float = 1.0) -> np.ndarray:
    """Generated room sound number `index` (int16, deterministic): the levels and noise
    colours in turn, every sixth one digital silence."""
    n = int(seconds * RATE)
    if index % 6 == 5:
        return np.zeros(n, np.int16)
    rng = np.random.default_rng([7, index])
    colour = COLOURS[index % len(COLOURS)]
    level = GENERATED_LEVELS_DBFS[(index // len(COLOURS)) % len(GENERATED_LEVELS_DBFS)]
    noise = rng.standard_normal(n)
    if colour == "pink":       # 1/f power: white noise's spectrum divided by √f
        spectrum = np.fft.rfft(noise)
        f = np.arange(spectrum.size, dtype=np.float64)
        f[0] = 1.0
        noise = np.fft.irfft(spectrum / np.sqrt(f), n)
    elif colour == "brown":    # 1/f²: integrated white noise, its drift removed
        noise = np.cumsum(noise)
        noise -= np.convolve(noise, np.ones(400) / 400, mode="same")
    noise = noise / (np.sqrt(np.mean(noise ** 2)) + 1e-12)
    # dBFS is relative to a full-scale sine (RMS 32767/√2)
    clip = noise * (32767 / np.sqrt(2)) * 10 ** (level / 20)
    return np.clip(np.round(clip), -32768, 32767).astype(np.int16)


def background_class(project: Any) -> Any | None:
    """The project's background class, or None."""
    return next((c for c in project.classes if getattr(c, "role", "") == ROLE), None)


def ensure_background(project: Any) -> int:
    """Before a sound project trains: make sure it has a background class with at least
    `MIN_BACKGROUND` clips, adding generated ones (through `Project.add_sample`). Returns how
    many clips were added. Other kinds: nothing."""
    if project.kind != "sound":
        return 0
    with project.lock:
        info = background_class(project)
        if info is None:
            info = project.add_background_class()
        have = len(info.samples)
        added = 0
        index = sum(1 for s in info.samples if s.source == GENERATED_SOURCE)
        while have + added < MIN_BACKGROUND:
            project.add_sample(info.id, generated_clip(index), source=GENERATED_SOURCE)
            index += 1
            added += 1
        return added
