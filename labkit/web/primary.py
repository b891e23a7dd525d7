"""What makes the lab page usable by a 7-year-old on their own (the primary band).

Jinja helpers the lab, portfolio and roster pages share: pinyin over titles and steps for
grades 1–2 (`web/pinyin.py`), the self-assessment stars in child language, the fixed set of
reflection faces, the pictures and colours a teacher may give each child on the roster, and
run durations a child understands ("用了 3 分钟").
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, request
from flask_babel import gettext as _
from flask_babel import ngettext
from werkzeug.wrappers import Response as WerkzeugResponse

from labkit.store import N_, Problem
from labkit.store.looks import COLOURS, PICTURES
from labkit.web import pinyin
from labkit.web.access import TEACHER, allow

bp = Blueprint("primary", __name__)

# the device symbols of static/icons/kit.svg (see docs/page-parts.md, _bench.html)
KIT_ICONS = frozenset(("led", "rgb", "buzzer", "servo", "button", "motion", "distance", "light",
                       "soil", "temperature", "fan", "pump", "speaker", "microphone"))
STARS = 3   # the self-assessment of a primary lab: 1–3 stars per question


def star_sentences() -> list[str]:
    """One short sentence a 7-year-old can read for each number of stars (1, 2, 3). The
    rubric's own levels keep their adult wording for the teacher."""
    return [_("I did it with help."), _("I did it by myself."),
            _("I did it and I can explain it.")]


# The reflection faces, in the order shown: id → the emoji kept in the answer text (the page
# draws its own pictures from static/img/primary.svg, so no emoji font is needed to choose).
FACES = {"happy": "😄", "surprised": "😮", "curious": "🤔", "confused": "😕", "sad": "😢"}
DRAWING_MAX_SIDE = 1200          # px; the page's canvas is 480 × 320
DRAWING_MAX_BYTES = 2 * 1024 * 1024


def face_names() -> dict[str, str]:
    """What each face means, in words a child reads (and hears)."""
    return {"happy": _("happy"), "surprised": _("surprised"), "curious": _("curious"),
            "confused": _("not sure"), "sad": _("sad")}


def colour_names() -> dict[str, str]:
    return {"red": _("red"), "orange": _("orange"), "yellow": _("yellow"), "green": _("green"),
            "blue": _("blue"), "purple": _("purple"), "pink": _("pink"), "brown": _("brown"),
            "black": _("black")}


def star_view(level: int, max_level: int) -> dict[str, Any]:
    """A self-assessment level as the child saw it: "★★☆" and its sentence."""
    sentences = star_sentences()
    level = max(0, min(int(level), max_level))
    return {"stars": "★" * level + "☆" * (max_level - level),
            "child": sentences[level - 1] if 1 <= level <= len(sentences) else ""}


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
            "star_sentences": star_sentences, "uses_stars": uses_stars, "star_view": star_view,
            "colour_names": colour_names,
            "reflection_faces": lambda: [(f, FACES[f], face_names()[f]) for f in FACES],
            "duration_text": duration_text, "look_names": look_names,
            "kit_icon_names": KIT_ICONS, "look_pictures": PICTURES, "look_colours": COLOURS,
            "class_looks": class_looks}


# ---- the reflection: a face, a drawing, or words -----------------------------------------
def _drawing_png(value: object) -> bytes:
    """The child's drawing as a clean PNG: the canvas's data URL, decoded, checked to be a
    PNG of a sensible size and written again by Pillow (nothing else in the file survives)."""
    import base64
    import binascii
    import io

    from PIL import Image, UnidentifiedImageError

    prefix = "data:image/png;base64,"
    bad = Problem(N_("The drawing could not be read. Draw it again and save."), code="bad_input")
    if not isinstance(value, str) or not value.startswith(prefix) or \
            len(value) > DRAWING_MAX_BYTES * 4 // 3 + len(prefix) + 4:
        raise bad
    try:
        raw = base64.b64decode(value[len(prefix):], validate=True)
        with Image.open(io.BytesIO(raw)) as image:
            if image.format != "PNG" or max(image.size) > DRAWING_MAX_SIDE:
                raise bad
            image.load()
            out = io.BytesIO()
            image.convert("RGBA").save(out, "PNG", optimize=True)
    except (binascii.Error, ValueError, OSError, UnidentifiedImageError,
            Image.DecompressionBombError):
        raise bad from None
    return out.getvalue()


def reflection_from(body: dict[str, Any], *, young: bool = True,
                    voice: bool = False) -> tuple[str, bytes | None]:
    """The reflection a child saved: the answer text (the face's emoji and word first, then
    any words typed) and the drawing's PNG, if they drew. At least one of a face, a drawing,
    words or (`voice`) a recorded answer (web/voice_answer.py). Older students
    (`young=False`: labs outside the primary band) answer in words."""
    if not young:
        if body.get("face") or body.get("drawing"):
            raise Problem(N_("Answer this lab's question in words."), code="bad_input")
        return str(body.get("answer") or ""), None   # the store refuses an empty answer
    face = body.get("face") or ""
    if face and face not in FACES:
        raise Problem(N_("That face is not one of the faces on the page."), code="bad_input")
    typed = str(body.get("answer") or "").strip()
    drawing = _drawing_png(body["drawing"]) if body.get("drawing") else None
    parts = []
    if face:
        parts.append(f"{FACES[face]} {face_names()[face]}")
    if typed:
        parts.append(typed)
    if not parts and drawing is not None:
        parts.append(_("I drew my answer."))
    if not parts and voice:
        parts.append(_("I said my answer."))
    if not parts:
        raise Problem(N_("Pick a face, draw, or write a few words."), code="bad_input")
    return " · ".join(parts), drawing


# ---- a picture and colour per child on the roster ----------------------------------------
def look_names() -> dict[str, str]:
    """The roster pictures' names in the page's language."""
    return {"bear": _("bear"), "rabbit": _("rabbit"), "bird": _("bird"), "boat": _("boat"),
            "rocket": _("rocket"), "leaf": _("leaf"), "ball": _("ball"), "house": _("house"),
            "kite": _("kite")}


def class_looks(class_id: int) -> dict[int, Any]:
    from labkit.web.labs import store

    return store().looks.of_class(class_id)


@bp.post("/teacher/classes/<int:class_id>/students/<int:student_id>/look")
@allow(TEACHER)
def set_look(class_id: int, student_id: int) -> WerkzeugResponse:
    """The teacher gives a child a picture and a colour (or none) for the name screen."""
    from labkit.web.labs import store
    from labkit.web.teacher import _back_to_roster

    student = store().roster.student(class_id, student_id)   # another class → 404
    with _back_to_roster(class_id) as back:
        store().looks.set(student.id, picture=request.form.get("picture", ""),
                          colour=request.form.get("colour", ""))
        flash(_("Picture and colour of %(name)s saved.", name=student.name), "ok")
    return back
