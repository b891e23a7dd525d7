"""Every step of every lab can be read aloud by the kit, in Chinese and in English.

Young children press the speaker button beside a step; the kit's espeak-ng voice must say it.
This synthesises each step's text (and its hint) to memory and checks it is real speech: long
enough for the text and not silent.
"""

from __future__ import annotations

import numpy as np
import pytest

from labkit.drivers.tts import synthesize
from labkit.projects.discovery import PACKAGE_LABS
from labkit.projects.registry import discover

LABS = discover([(PACKAGE_LABS, "package")]).specs
TEXTS = [(lab_id, step["id"], field, lang)
         for lab_id, spec in sorted(LABS.items())
         for step in spec.steps()
         for field in ("text", "hint") if step.get(field)
         for lang in ("zh_CN", "en")]


def test_there_are_steps_to_read() -> None:
    assert len(TEXTS) >= 2 * len(LABS)


@pytest.mark.parametrize("lab_id,step_id,field,lang", TEXTS)
def test_each_step_is_spoken(lab_id: str, step_id: str, field: str, lang: str) -> None:
    step = next(s for s in LABS[lab_id].steps() if s["id"] == step_id)
    text = step[field][lang]
    audio = synthesize(text, lang)
    seconds = audio.size / 16000
    assert seconds > 0.5, (lab_id, step_id, lang, seconds)
    rms = float(np.sqrt(np.mean(audio.astype(np.float64) ** 2)))
    assert rms > 200, f"{lab_id}/{step_id} ({lang}) is near silent: rms {rms:.0f}"
