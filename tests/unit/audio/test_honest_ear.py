"""The teachable ear against voices and rooms it never heard (measured, with stated floors).

Trained on male espeak-ng `cmn-latn-pinyin` voices only; tested on female voices, in white
noise and in babble at 10 dB SNR, and on words it was never taught (other words and the
look-alikes 开心/开始, 结果/结束). Nothing here reads a figure the model reports about itself.
"""

from __future__ import annotations

import numpy as np
import pytest

from labkit.audio_ai.commands import BACKGROUND, CommandWords, mix_at
from tests.unit.audio.conftest import add_noise, pad, room

WORDS = ["开灯", "关灯", "开始", "结束"]
TRAIN = [(v, s) for v in ("m1", "m3", "m5") for s in (130, 160)]          # male only
TEST = [(v, s) for v in ("f1", "f3", "f5") for s in (140, 165)]            # never heard
BACKGROUND_WORDS = ["你好", "谢谢", "今天", "学校"]                          # taught as "other"
NEVER_TAUGHT = ["吃饭", "书包", "电脑", "苹果", "老师", "黑板"]
LOOK_ALIKES = {"开心": "开始", "结果": "结束"}
BABBLE = ["我们去操场", "今天天气很好", "老师说下课", "他在看书"]

pytestmark = pytest.mark.slow     # ~60 s here: ~90 espeak clips and their embeddings


@pytest.fixture(scope="module")
def ear(speech, model_store):  # type: ignore[no-untyped-def]
    words = CommandWords(store=model_store)             # calibrated threshold
    assert words.embedder is not None, "labkit models fetch did not install speech_embedding"
    for w in WORDS:
        for i, (v, s) in enumerate(TRAIN):
            words.add_example(w, add_noise(pad(speech(w, "zh_CN", v, s), 0.2, 0.2), 30, i),
                              group=v)
    for i, o in enumerate(BACKGROUND_WORDS):
        words.add_example(BACKGROUND, add_noise(pad(speech(o, "zh_CN", TRAIN[i][0]), 0.2, 0.2),
                                                30, i), group=TRAIN[i][0])
    words.add_example(BACKGROUND, np.round(room(4.0, -50)).astype(np.int16))   # the room
    metrics = words.train()
    print(f"\n[ear] trained on {metrics['n_examples']} clips ({metrics['features']}), "
          f"threshold {metrics['threshold']}, held-out {metrics['accuracy']}")
    yield words
    words.close()


def _babble(speech, seconds: float, seed: int) -> np.ndarray:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(seed)
    out = np.zeros(int(seconds * 16000))
    for k, text in enumerate(BABBLE):
        c = np.asarray(speech(text, "zh_CN", ("m4", "f2", "m6", "f4")[k]), np.float64)
        start = int(rng.integers(0, max(1, out.size - c.size // 2)))
        seg = c[: out.size - start]
        out[start:start + seg.size] += seg
    return out


@pytest.mark.parametrize("condition, floor", [("clean", 0.9), ("white 10 dB", 0.85),
                                              ("babble 10 dB", 0.45)])   # measured 50–62%
def test_new_voices_and_noisy_rooms(ear, speech, condition, floor) -> None:  # type: ignore[no-untyped-def]
    right = total = 0
    wrong = []
    for w in WORDS:
        for i, (v, s) in enumerate(TEST):
            clip = pad(speech(w, "zh_CN", v, s), 0.3, 0.3)
            if condition.startswith("white"):
                clip = add_noise(clip, 10, seed=200 + i)
            elif condition.startswith("babble"):
                clip = mix_at(clip, _babble(speech, clip.size / 16000, 300 + i), 10.0)
            heard = ear.recognise(clip)
            total += 1
            right += heard == w
            if heard != w:
                wrong.append((w, v, heard))
    print(f"[ear] female voices, {condition}: {right}/{total} = {right / total:.0%}; "
          f"misses {wrong[:5]}")
    assert right / total >= floor


def _fires(ear, speech, words, voices):  # type: ignore[no-untyped-def]
    out = []
    for u in words:
        for v in voices:
            heard = ear.recognise(pad(speech(u, "zh_CN", v), 0.3, 0.3))
            if heard:
                out.append((u, v, heard))
    return out


def test_words_never_taught_rarely_fire(ear, speech) -> None:  # type: ignore[no-untyped-def]
    voices = ("f1", "m2")
    fired = _fires(ear, speech, NEVER_TAUGHT, voices)
    look = _fires(ear, speech, LOOK_ALIKES, ("f1", "f3", "m2", "m4"))
    quiet = ear.recognise(np.round(room(1.5, -45, seed=9)).astype(np.int16))
    n = len(NEVER_TAUGHT) * len(voices)
    # measured limitations, printed for the lab: a word the kit was never taught is heard as
    # the nearest taught one when it is confident enough; an untaught look-alike nearly always
    print(f"[ear] other words fired {len(fired)}/{n}: {fired}; untaught look-alikes fired "
          f"{len(look)}/{len(LOOK_ALIKES) * 4}: {look}")
    assert quiet is None
    assert len(fired) / n <= 0.5                   # measured 3–5 of 12 here


def test_teaching_the_look_alikes_as_other_stops_them(speech, model_store) -> None:  # type: ignore[no-untyped-def]
    words = CommandWords(store=model_store)
    for w in WORDS:
        for i, (v, s) in enumerate(TRAIN):
            words.add_example(w, add_noise(pad(speech(w, "zh_CN", v, s), 0.2, 0.2), 30, i),
                              group=v)
    for i, o in enumerate([*LOOK_ALIKES, *BACKGROUND_WORDS]):
        for v in ("m1", "m3"):
            words.add_example(BACKGROUND, add_noise(pad(speech(o, "zh_CN", v), 0.2, 0.2), 30, i),
                              group=v)
    words.add_example(BACKGROUND, np.round(room(4.0, -50)).astype(np.int16))
    words.train()
    look = _fires(words, speech, LOOK_ALIKES, ("f1", "f3", "f5", "m4"))
    hits = sum(words.recognise(pad(speech(w, "zh_CN", v, s), 0.3, 0.3)) == w
               for w in WORDS for v, s in TEST)
    print(f"[ear] look-alikes taught as other: fired {len(look)}/8 {look}; words {hits}/24")
    words.close()
    assert len(look) <= 2
    assert hits / 24 >= 0.85
