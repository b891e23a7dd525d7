"""Reading printed text aloud: a TextReader plus the kit's speaker (读书机, AI for the visually
impaired).

    reader = ReadAloud(TextReader(Camera()), speaker)
    print(reader.spoken)          # the last text it read aloud

A text is read once when it has been seen in `min_results` OCR results in a row (a card half in
view or a misread frame is not read out), and again only after a different text (or no text)
was seen — holding a page still must not make the kit repeat itself. Chinese text is read with
the Mandarin voice, anything else with English. Speaking runs on a thread of its own so the
camera keeps being read while espeak-ng works.
"""

from __future__ import annotations

import logging
import re
import threading
from typing import Any, Callable

from gpiozero.internal_devices import InternalDevice

from labkit.drivers.signals import ensure_pin_factory

log = logging.getLogger(__name__)
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


def language_of(text: str) -> str:
    """"zh_CN" if the text has any Chinese character, else "en"."""
    return "zh_CN" if _CJK.search(text) else "en"


class ReadAloud(InternalDevice):
    """`value` = how many texts were read aloud; `spoken` = the last one ("" before any);
    `said` = the last one the speaker finished saying; `is_active` while speaking.
    `when_read(text)` (a plain callable) is called for each."""

    def __init__(self, reader: Any, say: Callable[[str, str], Any] | None, *,
                 min_results: int = 2, pin_factory: Any = None) -> None:
        ensure_pin_factory()
        self.reader = reader
        self.say = say
        self.min_results = max(1, int(min_results))
        self.count = 0
        self.spoken = ""
        self.said = ""
        self._candidate = ""
        self._seen = 0
        self._last_read = ""
        self._speaking = threading.Event()
        self._lock = threading.Lock()
        self.when_read: Callable[[str], Any] | None = None
        super().__init__(pin_factory=pin_factory)
        self._fire_events(self.pin_factory.ticks(), False)
        if reader is not None:
            self._sig = reader.signal(f"read_aloud:{id(self)}", self._follow)

    @property
    def value(self) -> float:
        self._check_open()
        return float(self.count)

    @property
    def present(self) -> Any:
        """The reader's own sub-signal: 1 while any text is in view."""
        return self.reader.present

    @property
    def label(self) -> Any:
        """The reader's own sub-signal: the first line in view now."""
        return self.reader.label

    @property
    def is_active(self) -> bool:
        return self._speaking.is_set()

    def _follow(self, result: Any) -> int:
        if result is not None:
            self.update(result.text)
        return self.count

    def update(self, text: str) -> str | None:
        """Feed one OCR result's text; returns the text when it is to be read now."""
        text = " ".join(text.split())
        with self._lock:
            if text != self._candidate:
                self._candidate, self._seen = text, 0
            self._seen += 1
            if not text:
                self._last_read = ""
                return None
            if self._seen < self.min_results or text == self._last_read:
                return None
            self._last_read = text
            self.count += 1
            self.spoken = text
        if self.say is not None:
            threading.Thread(target=self._speak, args=(text,), daemon=True,
                             name="read-aloud").start()
        if self.when_read is not None:
            self.when_read(text)
        return text

    def _speak(self, text: str) -> None:
        self._speaking.set()
        try:
            assert self.say is not None
            self.say(text, language_of(text))
            self.said = text
        except Exception:
            log.exception("could not read %r aloud", text)
        finally:
            self._speaking.clear()

    def close(self) -> None:
        sig = getattr(self, "_sig", None)
        if sig is not None and hasattr(sig, "close"):
            sig.close()
        super().close()
