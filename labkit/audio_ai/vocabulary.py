"""The command words the kit teaches: one list for the /audio page, /learn sound projects
and the labs that drive devices by voice.

No offline Chinese recogniser exists (labkit.audio_ai.commands), so every word is taught in
class; this list is only what the pages *suggest*, and which device each word drives unless
the student binds it otherwise. `audio_action` is the /audio page's action name
(labkit.web.audio.ACTIONS); `learn_action` the /learn binding (labkit.learn.service
.check_action), None where /learn has no such device.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class CommandWord:
    word: str
    audio_action: str
    learn_action: dict[str, Any] | None


COMMAND_WORDS: tuple[CommandWord, ...] = (
    CommandWord("开灯", "led_on", {"type": "led", "value": "on"}),
    CommandWord("关灯", "led_off", {"type": "led", "value": "off"}),
    CommandWord("开风扇", "fan_on", None),
    CommandWord("关风扇", "fan_off", None),
    CommandWord("开始", "none", {"type": "rgb", "value": "green"}),
    CommandWord("停止", "none", {"type": "rgb", "value": "red"}),
)
#: the two a class starts with (a word to switch on, a word to switch off)
FIRST_WORDS = tuple(w.word for w in COMMAND_WORDS[:2])


def words() -> list[str]:
    return [w.word for w in COMMAND_WORDS]


def find(word: str) -> CommandWord | None:
    return next((w for w in COMMAND_WORDS if w.word == word.strip()), None)


def audio_defaults() -> dict[str, str]:
    """The /audio page's starting bindings: word → action name."""
    return {w.word: w.audio_action for w in COMMAND_WORDS if w.word in FIRST_WORDS}


def learn_defaults(class_names: dict[str, str]) -> dict[str, dict[str, Any]]:
    """A /learn sound project's starting bindings for its classes (class id → action) whose
    names are command words."""
    out = {}
    for class_id, name in class_names.items():
        found = find(name)
        if found is not None and found.learn_action is not None:
            out[class_id] = dict(found.learn_action)
    return out
