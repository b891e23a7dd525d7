"""Command-word features: the pretrained speech embedding against the log-mel fallback.

Same words, same training clips (male espeak-ng `cmn-latn-pinyin` voices), same test clips
(female voices never heard), through `CommandWords` exactly as the kit trains and listens.
Accuracy is measured on those new voices clean, in white noise and in babble at 10 dB, and
with only 3 examples per word; the time per clip of each feature step is measured in the
same run, and the embedding's cost is reported as a ratio to log-mel's. JSON out.

    python -m bench speech_features
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from bench.common import write_result
from tests.helpers import standard_model_store

WORDS = ["开灯", "关灯", "开始", "结束"]
TRAIN = [(v, s) for v in ("m1", "m3", "m5") for s in (130, 160)]
TEST = [(v, s) for v in ("f1", "f3", "f5") for s in (140, 165)]
BABBLE = ["我们去操场", "今天天气很好", "老师说下课", "他在看书"]


def _clips() -> dict[str, Any]:
    from labkit.drivers.tts import synthesize
    from tests.unit.audio.conftest import add_noise, pad

    train = {w: [add_noise(pad(synthesize(w, "zh_CN", variant=v, speed=s), 0.2, 0.2), 30, i)
                 for i, (v, s) in enumerate(TRAIN)] for w in WORDS}
    test = {w: [pad(synthesize(w, "zh_CN", variant=v, speed=s), 0.3, 0.3) for v, s in TEST]
            for w in WORDS}
    others = [pad(synthesize(o, "zh_CN", variant=v), 0.2, 0.2)
              for o, v in (("你好", "m1"), ("谢谢", "m3"), ("今天", "m5"), ("学校", "m1"))]
    voices = [np.asarray(synthesize(t, "zh_CN", variant=v), np.float64)
              for t, v in zip(BABBLE, ("m4", "f2", "m6", "f4"), strict=True)]
    return {"train": train, "test": test, "others": others, "babble": voices}


def _babble(voices: list[np.ndarray], n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    out = np.zeros(n)
    for c in voices:
        start = int(rng.integers(0, max(1, n - c.size // 2)))
        seg = c[: n - start]
        out[start:start + seg.size] += seg
    return out


def _evaluate(store: Any, clips: dict[str, Any], per_word: int) -> dict[str, Any]:
    from labkit.audio_ai.commands import BACKGROUND, CommandWords, mix_at
    from tests.unit.audio.conftest import add_noise, room

    words = CommandWords(store=store)
    for w in WORDS:
        for i, clip in enumerate(clips["train"][w][:per_word]):
            words.add_example(w, clip, group=TRAIN[i][0])
    for i, clip in enumerate(clips["others"]):
        words.add_example(BACKGROUND, clip, group=TRAIN[i][0])
    words.add_example(BACKGROUND, np.round(room(4.0, -50)).astype(np.int16))
    t0 = time.perf_counter()
    metrics = words.train()
    train_s = time.perf_counter() - t0
    out: dict[str, Any] = {"features": metrics["features"], "train_s": round(train_s, 2),
                           "examples_per_word": per_word,
                           "reported_held_out": metrics["accuracy"],
                           "threshold": metrics["threshold"]}
    for condition in ("clean", "white_10db", "babble_10db"):
        right = total = 0
        for w in WORDS:
            for i, clip in enumerate(clips["test"][w]):
                if condition == "white_10db":
                    clip = add_noise(clip, 10, seed=200 + i)
                elif condition == "babble_10db":
                    clip = mix_at(clip, _babble(clips["babble"], clip.size, 300 + i), 10.0)
                right += words.recognise(clip) == w
                total += 1
        out[condition] = round(right / total, 3)
    out["n_test_per_condition"] = len(WORDS) * len(TEST)
    words.close()
    return out


def _ms_per_clip(fn: Any, clip: np.ndarray, runs: int = 10) -> float:
    fn(clip)
    t0 = time.perf_counter()
    for _ in range(runs):
        fn(clip)
    return (time.perf_counter() - t0) / runs * 1000


def main() -> None:
    from labkit.audio_ai.embedding import SpeechEmbedder
    from labkit.audio_ai.features import clip_features

    store = standard_model_store(threads=1)
    embedder = SpeechEmbedder.from_store(store)
    if embedder is None:
        raise SystemExit("speech_embedding is not installed: run labkit models fetch")
    clips = _clips()
    rows = []
    for label, use in (("log_mel", None), ("speech_embedding", store)):
        for per_word in (6, 3):
            row = _evaluate(use, clips, per_word)
            row["name"] = label
            rows.append(row)
            print(f"{label:17s} {per_word} ex/word: clean {row['clean']:.2f}, white 10 dB "
                  f"{row['white_10db']:.2f}, babble 10 dB {row['babble_10db']:.2f} "
                  f"(train {row['train_s']} s)")
    sample = clips["test"][WORDS[0]][0]
    log_mel_ms = _ms_per_clip(clip_features, sample)
    emb_ms = _ms_per_clip(embedder.clip_vector, sample)
    print(f"features per clip: log-mel {log_mel_ms:.1f} ms, embedding {emb_ms:.1f} ms "
          f"= {emb_ms / log_mel_ms:.1f}x")
    write_result("speech_features", {
        "words": WORDS, "train_voices": [v for v, _ in TRAIN], "test_voices":
        sorted({v for v, _ in TEST}), "table": rows,
        "features_ms_per_clip": {"log_mel": round(log_mel_ms, 2),
                                 "speech_embedding": round(emb_ms, 2),
                                 "ratio_embedding_vs_log_mel": round(emb_ms / log_mel_ms, 2)}})


if __name__ == "__main__":
    main()
