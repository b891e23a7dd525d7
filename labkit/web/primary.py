"""What makes the lab page usable by a 7-year-old on their own (the primary band).

Jinja helpers the lab, portfolio and roster pages share: pinyin over titles and steps for
grades 1–2 (`web/pinyin.py`), the self-assessment stars in child language, the fixed set of
reflection faces, the pictures and colours a teacher may give each child on the roster, and
run durations a child understands ("用了 3 分钟").
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from flask_babel import gettext as _
from flask_babel import ngettext

from labkit.web import pinyin

bp = Blueprint("primary", __name__)

STARS = 3   # the self-assessment of a primary lab: 1–3 stars per question


def star_sentences() -> list[str]:
    """One short sentence a 7-year-old can read for each number of stars (1, 2, 3). The
    rubric's own levels keep their adult wording for the teacher."""
    return [_("I did it with help."), _("I did it by myself."),
            _("I did it and I can explain it.")]


def uses_stars(lesson: Any) -> bool:
    """A lab of the primary band whose every question has three levels asks for stars."""
    return lesson.band == "experience" and all(
        len(c.get("levels", ())) == STARS for c in lesson.criteria)


def duration_text(seconds: float | None) -> str:
    """How long a run took, in words a child reads: "用了 40 秒", "用了 3 分钟", "took 2
    hours". Whole units only (rounded), seconds under a minute, hours from two hours on."""
    if seconds is None:
        return ""
    total = max(0, int(float(seconds) + 0.5))
    if total < 60:
        return ngettext("took %(num)s second", "took %(num)s seconds", total)
    minutes = (total + 30) // 60
    if minutes < 120:
        return ngettext("took %(num)s minute", "took %(num)s minutes", minutes)
    hours = (minutes + 30) // 60
    return ngettext("took %(num)s hour", "took %(num)s hours", hours)


@bp.app_context_processor
def _primary_context() -> dict[str, Any]:
    return {"pinyin_ruby": pinyin.ruby, "wants_pinyin": pinyin.wants_pinyin,
            "star_sentences": star_sentences, "uses_stars": uses_stars,
            "duration_text": duration_text}
