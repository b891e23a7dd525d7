"""The English grammar commands, measured: why the kit shows them but never obeys them.

Grammar mode always answers with *some* command; on espeak-ng voices it hears the commands
(≥ 85%), but it also fires on most short words that are not commands. The kit's target for a
control is ≤ 10% false triggers at ≥ 90% hits; this measures both, and the audio monitor keeps
the commands away from the outputs while the target is not met.
"""

from __future__ import annotations

import pytest

from labkit.audio_ai.kws import DEFAULT_COMMANDS, VoiceCommands
from tests.unit.audio.conftest import pad

NOT_COMMANDS = ["read", "bread", "bed", "yes", "light", "night", "top", "shop", "lift", "fort",
                "black", "pack", "jump", "sit", "cat", "dog", "hello", "okay", "rest", "tree"]

pytestmark = pytest.mark.slow       # ~30 s here: 60 espeak clips through pocketsphinx


def _rates(speech):  # type: ignore[no-untyped-def]
    kws = VoiceCommands()
    hits = sum(kws.recognise(pad(speech(c, "en", v), 0.3, 0.3)).command == c
               for c in DEFAULT_COMMANDS for v in ("", "f2"))
    fired = [w for w in NOT_COMMANDS for v in ("", "f2")
             if kws.recognise(pad(speech(w, "en", v), 0.3, 0.3)).command]
    kws.close()
    return hits / (2 * len(DEFAULT_COMMANDS)), len(fired) / (2 * len(NOT_COMMANDS)), fired


def test_grammar_commands_are_heard_but_fooled_so_they_do_not_drive_outputs(speech) -> None:  # type: ignore[no-untyped-def]
    from labkit.audio_ai.monitor import AudioMonitor

    hit_rate, false_rate, fired = _rates(speech)
    print(f"\n[kws] hits {hit_rate:.0%}, false triggers on short non-command words "
          f"{false_rate:.0%}: {sorted(set(fired))}")
    assert hit_rate >= 0.85
    meets_target = false_rate <= 0.10 and hit_rate >= 0.9
    monitor = AudioMonitor(kws=False)
    try:
        # the page may only let the commands drive the kit once they meet the target
        assert monitor.kws_drives_outputs == meets_target
    finally:
        monitor.close()
