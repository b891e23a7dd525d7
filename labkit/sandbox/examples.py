"""The programs a student can open from the code page's examples menu.

Each is a plain Python file in `example_programs/` with Chinese and English comments, so it runs the
same from the page and from a terminal on the kit. Titles are message ids (the page
translates them).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from labkit.errors import Message, lazy_gettext as _

FOLDER = Path(__file__).with_name("example_programs")


@dataclass(frozen=True)
class Example:
    id: str
    title: Message

    @property
    def source(self) -> str:
        return (FOLDER / f"{self.id}.py").read_text(encoding="utf-8")


EXAMPLES = (
    Example("led_blink", _("Blink the LED")),
    Example("button_led", _("Button lights the LED")),
    Example("faces_led", _("A face lights the LED")),
    Example("say_hello", _("Say hello")),
)


def example(example_id: str) -> Example | None:
    return next((e for e in EXAMPLES if e.id == example_id), None)
