"""The voice lab's fair test with real speech: espeak-ng commands and short words that are not
commands go through the lab's own grammar recogniser (pocketsphinx), one trial each, as a
class would run them from the page; the hit rate and the false-trigger rate the page shows
are the ones the recogniser's decisions in those trials give — nothing is assumed.

It also prints what a stricter confidence threshold would have done on the same utterances
(the decisions keep their confidence), the measurement behind the lab's threshold.
"""

from __future__ import annotations

import importlib.util
from typing import Any

import numpy as np

from labkit.projects.base import LabContext
from labkit.projects.clock import SimClock
from labkit.projects.discovery import PACKAGE_LABS
from labkit.projects.eventlog import EventLog
from labkit.projects.registry import discover
from labkit.projects.trials import MIN_TRIALS, figures
from tests.unit.audio.conftest import _speech, pad

# voices as in tests/unit/audio/test_kws_limits.py, so espeak's clips are shared (cached)
COMMANDS = [("lights on", ""), ("turn on the fan", "f2"), ("lights off", ""),
            ("fan off", ""), ("lights on", "f2")]
NOT_COMMANDS = [("hello", ""), ("yes", "f2"), ("light", ""), ("night", "f2"), ("top", ""),
                ("what time is it", "f2")]
BLOCK = 800            # 50 ms, the runner's tick


def _checks() -> Any:
    path = PACKAGE_LABS / "cognition" / "voice_commands" / "checks.py"
    spec = importlib.util.spec_from_file_location("voice_checks", path)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def test_the_rates_the_page_shows_come_from_the_class_trials(runtime: Any) -> None:
    cls = discover([(PACKAGE_LABS, "package")]).get("voice_commands")
    clock = SimClock(1000.0)
    log = EventLog(clock=clock.now)
    ctx = LabContext(runtime, log)
    ctx.simulated = True
    lab = cls()
    lab.setup(ctx)
    words = lab.built[0].device                      # the lab's own grammar recogniser
    decided: list[tuple[str, dict[str, Any]]] = []   # each trial's first decided utterance
    try:
        assert lab.part_state("trials")["figures"]["other"]["rate"] is None
        for kind, items in (("command", COMMANDS), ("other", NOT_COMMANDS)):
            for text, voice in items:
                lab.part_input(ctx, "trials", {"kind": kind})   # the page's button
                before = len(words.history)
                audio = pad(_speech(text, "en", voice, 150, 50), 0.3, 1.2)
                for i in range(0, audio.size, BLOCK):
                    lab.hear(ctx, audio[i:i + BLOCK])
                    clock.advance(BLOCK / 16000)
                    lab.step(ctx, None)
                assert lab.trials.open is None, f"{text!r}: the trial did not close"
                decided.append((kind, list(words.history)[before]))
        state = lab.part_state("trials")
    finally:
        lab.teardown(ctx)
    trials = [e.value for e in log.entries("trial")]
    assert [t["kind"] for t in trials] == ["command"] * 5 + ["other"] * 6
    assert all(t["spoke"] for t in trials)
    # each trial fired exactly when the recogniser accepted that utterance as a command
    assert [t["fired"] for t in trials] == [d["command"] is not None for _k, d in decided]
    expected = {kind: sum(1 for k, d in decided if k == kind and d["command"] is not None)
                for kind in ("command", "other")}
    shown = state["figures"]
    assert shown == figures(log.entries("trial"))
    assert shown["command"] == {"trials": 5, "fired": expected["command"],
                                "rate": round(expected["command"] / 5, 3)}
    assert shown["other"] == {"trials": 6, "fired": expected["other"],
                              "rate": round(expected["other"] / 6, 3)}
    assert shown["enough"] and _checks().enough_trials(log).passed
    # per recogniser: only the grammar listened (no sound project was picked for `mine`)
    assert set(shown["by"]) == {"words"}
    assert {k: shown["by"]["words"][k] for k in ("command", "other")} == \
        {k: shown[k] for k in ("command", "other")}
    # with fewer than MIN_TRIALS of a kind there is no rate, and the check is not met
    few = EventLog(clock=clock.now)
    for t in trials[:MIN_TRIALS + MIN_TRIALS - 1]:
        few.record("model", "trial", t)
    assert figures(few.entries("trial"))["other"]["rate"] is None
    assert not _checks().enough_trials(few).passed
    print(f"\n[trials] hits {shown['command']['fired']}/5, false triggers "
          f"{shown['other']['fired']}/6 at threshold {words.threshold}: "
          f"{[d['hypothesis'] for k, d in decided if k == 'other' and d['command']]}")
    # the same utterances under stricter thresholds (what the decisions' confidences allow)
    for threshold in (words.threshold, 0.6, 0.7, 0.8, 0.9):
        def fires(d: dict[str, Any], t: float = threshold) -> bool:
            return d["reason"] in ("ok", "low_confidence") and d["confidence"] >= t
        hit = np.mean([fires(d) for k, d in decided if k == "command"])
        false = np.mean([fires(d) for k, d in decided if k == "other"])
        print(f"[trials] threshold {threshold:.2f}: hit rate {hit:.0%}, "
              f"false-trigger rate {false:.0%}")
