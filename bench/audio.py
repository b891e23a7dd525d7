"""Sound benchmark: real-time factor of VAD, English commands and command words on a 60 s
recording, and the latency from the end of a spoken word to the GPIO pin changing.

The recording is built in the run: espeak-ng commands (Chinese and English) and unrelated
sentences, hand claps and room noise, 60 s at 16 kHz. Each detector processes it block by
block exactly as it would the microphone; its real-time factor is processing time divided by
the audio's duration (60 s, the real time of the same audio). Goal: each ≤ 0.1.

Latency: a simulated microphone plays a spoken word in real time into a detector bound to the
kit's LED on gpiozero's mock pins; the time from the word's last loud sample being heard to
the pin going high is measured (median of several runs).
"""

from __future__ import annotations

import statistics
import time
from typing import Any, Callable

import numpy as np

from bench.common import write_result
from tests.helpers import standard_model_store

RATE = 16000
SECONDS = 60
GOAL_RTF = 0.1
LATENCY_RUNS = 5
ZH = ["开灯", "关灯", "前进", "后退", "停止"]
EN = ["lights on", "lights off", "red", "green", "stop"]
SENTENCES = ["the weather is nice today", "我们去公园吧", "where is the library",
             "今天天气很好"]


def _store() -> Any:
    return standard_model_store(threads=2)


def _noisy(x: np.ndarray, rng: np.random.Generator, noise: float = 30.0) -> np.ndarray:
    y = np.asarray(x, dtype=np.float64) + rng.standard_normal(np.asarray(x).size) * noise
    return np.clip(np.round(y), -32768, 32767).astype(np.int16)


def recording(rng: np.random.Generator) -> tuple[np.ndarray, list[str]]:
    """60 s: a word or sentence every ~2.5 s, a few double claps, room noise throughout."""
    from labkit.drivers.tts import synthesize

    x = rng.standard_normal(SECONDS * RATE) * 30.0
    t = 0.5
    items = [(w, "zh_CN") for w in ZH] + [(w, "en") for w in EN] + \
            [(s, "zh_CN" if not s.isascii() else "en") for s in SENTENCES]
    i = 0
    placed: list[str] = []
    while t < SECONDS - 3:
        text, lang = items[i % len(items)]
        clip = synthesize(text, lang, variant=("", "m3", "f2")[i % 3]).astype(np.float64)
        start = int(t * RATE)
        x[start:start + clip.size] += clip[: x.size - start]
        placed.append(text)
        t += clip.size / RATE + 1.0
        if i % 4 == 3:      # a double clap
            for k in range(2):
                n = int(0.06 * RATE)
                burst = rng.standard_normal(n) * 6000 * np.exp(-np.arange(n) / RATE / 0.012)
                s = int((t + 0.35 * k) * RATE)
                x[s:s + n] += burst
            t += 1.2
        i += 1
    return np.clip(np.round(x), -32768, 32767).astype(np.int16), placed


def taught_words(rng: np.random.Generator) -> Any:
    from labkit.audio_ai.commands import BACKGROUND, CommandWords
    from labkit.drivers.tts import synthesize

    words = CommandWords(threshold=0.5)
    for w in ZH:
        for v in ("", "m1", "m3", "f2", "f4"):
            for speed in (130, 150, 170):
                words.add_example(w, _noisy(np.concatenate(
                    [np.zeros(3200), synthesize(w, "zh_CN", variant=v, speed=speed),
                     np.zeros(3200)]), rng))
    for i, o in enumerate(["你好", "谢谢", "老师", "苹果", "hello", "okay", "学校", "今天"] * 2):
        words.add_example(BACKGROUND, _noisy(np.concatenate(
            [np.zeros(3200), synthesize(o, "en" if o.isascii() else "zh_CN",
                                        variant=("", "m3", "f2")[i % 3]), np.zeros(3200)]), rng))
    words.add_example(BACKGROUND, _noisy(np.zeros(4 * RATE), rng))
    words.train()
    return words


def rtf(name: str, make: Callable[[], Any], audio: np.ndarray) -> dict[str, Any]:
    det = make()
    heard: list[str] = []
    if hasattr(det, "when_heard"):
        det.when_heard = lambda word, conf: heard.append(word)
    t0 = time.perf_counter()
    det.process(audio)
    flush = getattr(det, "flush", None)
    if callable(flush):
        flush()
    elapsed = time.perf_counter() - t0
    out = {"seconds_processing": round(elapsed, 3), "audio_seconds": audio.size / RATE,
           "rtf": round(elapsed / (audio.size / RATE), 4)}
    if hasattr(det, "when_heard"):
        out["heard"] = heard
    segs = getattr(det, "segments", None)
    if segs is not None and name == "vad":
        out["speech_segments"] = len(segs)
    det.close()
    return out


def latency(make: Callable[[Any], Any], word: str, clip: np.ndarray, runs: int) -> dict[str, Any]:
    """End of word → LED pin high, with a real-time simulated microphone."""
    from gpiozero import LED

    from labkit.audio_ai.features import frame_energy_db
    from labkit.drivers.audio import Microphone, SimulatedMicSource

    db = frame_energy_db(clip)
    word_end = (int(np.flatnonzero(db > db.max() - 35)[-1]) * 160 + 400) / RATE
    samples = []
    for _ in range(runs):
        source = SimulatedMicSource(realtime=True, noise_dbfs=-60)
        mic = Microphone(source)
        led = LED(17)
        det = make(mic)
        det.label_is(word).when_activated = led.on
        time.sleep(0.5)                       # the room, before anyone speaks
        source.play(clip)
        played = source_started(source)
        deadline = time.monotonic() + 10
        while not led.is_lit and time.monotonic() < deadline:
            time.sleep(0.001)
        lit = time.monotonic()
        if led.is_lit:
            samples.append(lit - (played + word_end))
        det.close()
        mic.close()
        led.close()
    return {"runs": runs, "heard": len(samples),
            "median_s": round(statistics.median(samples), 3) if samples else None,
            "max_s": round(max(samples), 3) if samples else None}


def source_started(source: Any) -> float:
    """When the clip queued with play() starts being heard: the simulated microphone mixes it
    into the block it hands over at its next due time, a block that covers the 32 ms before."""
    return source._next_due - 512 / RATE


def main() -> None:
    from labkit.audio_ai.clap import ClapDetector
    from labkit.audio_ai.kws import VoiceCommands
    from labkit.audio_ai.level import SoundLevel
    from labkit.audio_ai.monitor import AudioMonitor
    from labkit.audio_ai.vad import VoiceActivity
    from labkit.drivers.gpio import install_pin_factory, make_pin_factory
    from labkit.drivers.tts import synthesize

    install_pin_factory(make_pin_factory("sim"))
    rng = np.random.default_rng(0)
    store = _store()
    audio, placed = recording(rng)
    words = taught_words(rng)
    vad_model = store.load("silero_vad")

    def command_words(mic: Any = None) -> Any:
        from labkit.audio_ai.commands import CommandWords
        det = CommandWords(mic, threshold=0.5)
        det.classifier = words.classifier
        return det

    def english(mic: Any = None) -> Any:
        det = VoiceCommands(mic, commands=EN)
        return det

    results: dict[str, Any] = {
        "recording_seconds": SECONDS, "goal_rtf": GOAL_RTF, "rtf": {},
        "in_recording": {"zh_commands": sum(p in ZH for p in placed),
                         "en_commands": sum(p in EN for p in placed),
                         "sentences": sum(p in SENTENCES for p in placed)}}
    copy_t0 = time.perf_counter()
    for i in range(0, audio.size, 512):   # baseline: just walking the blocks
        audio[i:i + 512].copy()
    results["rtf"]["blocks_only"] = {"rtf": round((time.perf_counter() - copy_t0) / SECONDS, 6)}
    results["rtf"]["level"] = rtf("level", SoundLevel, audio)
    results["rtf"]["clap"] = rtf("clap", ClapDetector, audio)
    results["rtf"]["vad"] = rtf("vad", lambda: VoiceActivity(model=vad_model), audio)
    results["rtf"]["kws"] = rtf("kws", english, audio)
    results["rtf"]["command_words"] = rtf("command_words", command_words, audio)

    monitor = AudioMonitor(None, store=store)
    monitor.commands.classifier = words.classifier
    t0 = time.perf_counter()
    for i in range(0, audio.size, 512):
        monitor.feed(audio[i:i + 512])
    results["rtf"]["all_in_one_monitor"] = {
        "rtf": round((time.perf_counter() - t0) / SECONDS, 4)}
    monitor.close()

    zh_clip = _noisy(np.concatenate([synthesize("开灯", "zh_CN", variant="m2"),
                                     np.zeros(int(1.5 * RATE))]), rng)
    en_clip = _noisy(np.concatenate([synthesize("lights on", "en"),
                                     np.zeros(int(1.5 * RATE))]), rng)
    results["latency_end_of_word_to_gpio"] = {
        "command_words": latency(command_words, "开灯", zh_clip, LATENCY_RUNS),
        "kws": latency(english, "lights on", en_clip, LATENCY_RUNS),
    }
    words.close()
    store.close()

    print(f"recording: {results['in_recording']}")
    print(f"{'detector':22} {'RTF':>8}   (processing time / {SECONDS} s of audio; goal ≤ "
          f"{GOAL_RTF})")
    for name, r in results["rtf"].items():
        print(f"{name:22} {r['rtf']:8.4f}   {'heard: ' + ', '.join(r['heard']) if 'heard' in r else ''}")
    for name, r in results["latency_end_of_word_to_gpio"].items():
        print(f"latency {name:14} median {r['median_s']} s, max {r['max_s']} s "
              f"({r['heard']}/{r['runs']} heard)")
    results["meets_goal"] = all(results["rtf"][k]["rtf"] <= GOAL_RTF
                                for k in ("vad", "kws", "command_words"))
    write_result("audio", results)


if __name__ == "__main__":
    main()
