"""Pinyin over Chinese text, for children in grades 1–2 who are still learning to read hanzi.

`ruby(text)` turns each Chinese character into `<ruby>字<rp>(</rp><rt>zì</rt><rp>)</rp></ruby>`
(tone marks, from pypinyin's offline dictionary, which also picks the reading of a character
from the words around it: 长大 zhǎng dà, 很长 hěn cháng). Everything else is escaped and left as
it is. The page hides the `<rt>` until the child (or teacher) turns pinyin on with the toggle
(`static/js/primary.js`), so the same markup serves both.
"""

from __future__ import annotations

import re
from functools import lru_cache

from markupsafe import Markup, escape

HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
PINYIN_GRADES = (1, 2)   # the grades a lab must include for its page to offer pinyin


def wants_pinyin(grades: tuple[int, int] | list[int], lang: str) -> bool:
    """True for a Chinese page of a lab meant (also) for grades 1–2."""
    first, last = int(grades[0]), int(grades[1])
    return lang.startswith("zh") and first <= PINYIN_GRADES[1] and last >= PINYIN_GRADES[0]


@lru_cache(maxsize=2048)
def _readings(run: str) -> tuple[str, ...]:
    from pypinyin import Style, pinyin

    return tuple(r[0] for r in pinyin(run, style=Style.TONE, heteronym=False,
                                      errors=lambda chars: [[c] for c in chars]))


def ruby(text: object) -> Markup:
    """`text` with pinyin ruby over every Chinese character (HTML-safe)."""
    source = str(text or "")
    out: list[str] = []
    pos = 0
    for match in HAN.finditer(source):
        out.append(str(escape(source[pos:match.start()])))
        run = match.group(0)
        readings = _readings(run)
        if len(readings) != len(run):   # never misalign a reading with its character
            readings = tuple(_readings(ch)[0] for ch in run)
        for char, reading in zip(run, readings, strict=True):
            out.append(f"<ruby>{escape(char)}<rp>(</rp><rt>{escape(reading)}</rt><rp>)</rp></ruby>")
        pos = match.end()
    out.append(str(escape(source[pos:])))
    return Markup("".join(out))
