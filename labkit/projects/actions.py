"""Actions of a lab.yaml: the kit *does* something once when a condition turns on.

Bindings make an output follow a signal all the time (`led.source: faces.present`); an action
is a one-off reaction to a moment — the doorbell greets a visitor once, the coach says "well
done" at the tenth squat:

    actions:
      greet:
        when: all_values(motion, faces.present)
        say: {zh_CN: 你好，欢迎！, en: Hello, welcome!}
        beep: 0.3

`when` is an expression like a binding's; the action fires each time it goes from off to on.
Each firing is logged under the action's name (so `happened(greet, times=2)` can grade it)
with the words said. Speech is synthesised off the lab's loop so a frame is never held up.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Any, Callable

log = logging.getLogger(__name__)


@dataclass
class Action:
    """One declared action, resolved against the lab's scope."""

    name: str
    when: Callable[[], Any]
    say: dict[str, str] | str | None = None
    beep: float = 0.0
    was_on: bool = False

    def poll(self) -> bool:
        """True when `when` has just turned on (a rising edge)."""
        now = bool(self.when())
        fired = now and not self.was_on
        self.was_on = now
        return fired


def words(say: dict[str, str] | str | None, lang: str) -> str:
    """The text to speak in `lang` (Chinese, then English, as fallbacks)."""
    if isinstance(say, dict):
        return str(say.get(lang) or say.get("zh_CN") or say.get("en") or "")
    return "" if say is None else str(say)


def perform(action: Action, *, speaker: Any, buzzer: Any, lang: str) -> str:
    """Do what the action says; returns the words spoken ('' if none)."""
    text = words(action.say, lang)
    if text and speaker is not None:
        speak_lang = "zh_CN" if lang.startswith("zh") else "en"

        def speak() -> None:
            try:
                speaker.say(text, speak_lang, wait=False)
            except Exception as exc:   # a missing speaker must not stop the lab
                log.warning("action %s could not speak: %s", action.name, exc)
        threading.Thread(target=speak, name=f"action-{action.name}", daemon=True).start()
    if action.beep > 0 and buzzer is not None:
        try:
            buzzer.beep(on_time=action.beep, off_time=0.05, n=1, background=True)
        except Exception as exc:
            log.warning("action %s could not beep: %s", action.name, exc)
    return text
