"""The programs a student can open from the code page's examples menu.

A Python example is a plain file in `example_programs/` with Chinese and English comments, so it
runs the same from the page and from a terminal on the kit. A blocks example is a Blockly
workspace (`<id>.blocks.json`, Blockly's JSON serialization) that the page opens on its Blocks
tab; the page generates its Python. Titles are message ids (the page translates them).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from labkit.errors import Message, lazy_gettext as _

FOLDER = Path(__file__).with_name("example_programs")


@dataclass(frozen=True)
class Example:
    id: str
    title: Message
    kind: str = "python"            # "python" or "blocks"

    @property
    def source(self) -> str:
        return (FOLDER / f"{self.id}.py").read_text(encoding="utf-8")

    @property
    def blocks(self) -> dict[str, Any]:
        """A blocks example's workspace (Blockly.serialization JSON)."""
        return json.loads((FOLDER / f"{self.id}.blocks.json").read_text(encoding="utf-8"))


EXAMPLES = (
    Example("led_blink", _("Blink the LED")),
    Example("button_led", _("Button lights the LED")),
    Example("faces_led", _("A face lights the LED")),
    Example("say_hello", _("Say hello")),
    Example("blocks_led_on", _("Blocks: light the LED"), "blocks"),
    Example("blocks_face_led", _("Blocks: the LED follows a face"), "blocks"),
    Example("blocks_motion_fan", _("Blocks: movement turns the fan on"), "blocks"),
    Example("blocks_voice_led", _("Blocks: command words switch the LED"), "blocks"),
)


def example(example_id: str) -> Example | None:
    return next((e for e in EXAMPLES if e.id == example_id), None)
