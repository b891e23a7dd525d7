"""A /learn sound project as a lab's recogniser (labkit/learn/sound_words.py): it refuses a
project that cannot listen — another kind, never trained — with a clear error and hears
nothing until one is picked. The taught words switching the LED, through the lab page's
picker, is tests/labs/test_voice_own_words.py."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from labkit.errors import LabkitError
from labkit.learn.dataset import ProjectStore
from labkit.learn.sound_words import SoundWords


def test_a_project_that_cannot_listen_is_refused(tmp_path: Path) -> None:
    store = ProjectStore(tmp_path / "learn")
    words = SoundWords(classes={"开灯": ["开灯"]})
    try:
        noise = (np.random.default_rng(0).standard_normal(16000) * 3000).astype(np.int16)
        words.process(noise)
        words.flush()
        assert words.ready == 0 and words.utterances == 0 and words.heard_count == 0
        images = store.create("水果", "image", ["苹果", "香蕉"])
        with pytest.raises(LabkitError) as wrong:
            words.use_project(images)
        assert wrong.value.code == "wrong_kind"
        untrained = store.create("新口令", "sound", ["开灯"])
        with pytest.raises(LabkitError) as raw:
            words.use_project(untrained)
        assert raw.value.code == "not_trained" and words.ready == 0
        assert words.use_project(None) is None and words.ready == 0
    finally:
        words.close()
    with pytest.raises(ValueError):
        SoundWords(threshold=1.5)
