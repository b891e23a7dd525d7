"""What the overlay module (static/js/overlay.js) draws, and the labels it draws with.

Detectors publish their results as `vision.<task>` events; the page draws them over the live
camera picture in the browser, so labels can be Chinese. This module is the one place the
kinds of overlay are named (a lab declares `overlays: [faces, hands]`, a vision page draws its
own task) and where the overlay labels are translated. Templates reach both as Jinja globals:

    {% with overlays=["faces", "hands"] %}{% include "_camera.html" %}{% endwith %}
    {{ overlay_labels()|tojson }}

The blueprint has no routes: it only registers those globals.
"""

from __future__ import annotations

import logging
from typing import Any, Iterable

from flask import Blueprint
from flask_babel import gettext as _

log = logging.getLogger(__name__)
bp = Blueprint("overlay", __name__)

#: overlay kind → the event topic its detector publishes (the `topic` of labkit.vision classes)
KINDS: dict[str, str] = {
    "faces": "vision.face",
    "hands": "vision.hands",
    "pose": "vision.pose",
    "segmentation": "vision.segmentation",
    "text": "vision.ocr",
    "colour": "vision.colour",
    "shapes": "vision.shapes",
    "emotion": "vision.emotion",
    "people": "vision.people",
}
#: other names for the same kinds (the vision task slugs, American spelling)
ALIASES: dict[str, str] = {"face": "faces", "hand": "hands", "ocr": "text", "color": "colour",
                           "shape": "shapes", "emotions": "emotion", "mask": "segmentation"}


def overlay_kind(name: str) -> str:
    """The overlay kind a name stands for; ValueError naming the known kinds otherwise."""
    kind = ALIASES.get(name, name)
    if kind not in KINDS:
        raise ValueError(f"unknown overlay {name!r}; known: {', '.join(KINDS)}")
    return kind


@bp.app_template_global()
def overlay_kinds(names: Iterable[str] | None, *, strict: bool = False) -> list[str]:
    """Normalise a declared overlay list (aliases resolved, duplicates dropped, in order).

    A page must not fail over one bad declaration, so an unknown name is logged and left out
    (`strict=True` raises instead, for a checker that reports it by name)."""
    out: list[str] = []
    for name in names or ():
        try:
            kind = overlay_kind(str(name).strip())
        except ValueError as exc:
            if strict:
                raise
            log.warning("overlay left out: %s", exc)
            continue
        if kind not in out:
            out.append(kind)
    return out


@bp.app_template_global()
def overlay_labels() -> dict[str, Any]:
    """Every label an overlay draws, translated for the current request's language."""
    return {
        "face": _("face"), "person": _("person"),
        "left": _("left hand"), "right": _("right hand"),
        "gestures": {"open_palm": _("open palm"), "fist": _("fist"), "point": _("pointing"),
                     "victory": _("victory"), "thumbs_up": _("thumbs up"), "ok": _("OK"),
                     "": _("no gesture")},
        "emotions": {"angry": _("angry"), "disgust": _("disgusted"), "fear": _("afraid"),
                     "happy": _("happy"), "sad": _("sad"), "surprise": _("surprised"),
                     "neutral": _("neutral")},
        "maybe": _("maybe %(label)s", label="{label}"),
        "colours": {"red": _("red"), "orange": _("orange"), "yellow": _("yellow"),
                    "green": _("green"), "blue": _("blue"), "purple": _("purple"),
                    "pink": _("pink"), "white": _("white"), "grey": _("grey"),
                    "black": _("black"), "custom": _("my colour")},
        "shapes": {"triangle": _("triangle"), "square": _("square"),
                   "rectangle": _("rectangle"), "pentagon": _("pentagon"),
                   "hexagon": _("hexagon"), "circle": _("circle"), "": _("other shape")},
        "joints": {"left_elbow": _("left elbow"), "right_elbow": _("right elbow"),
                   "left_shoulder": _("left shoulder"), "right_shoulder": _("right shoulder"),
                   "left_hip": _("left hip"), "right_hip": _("right hip"),
                   "left_knee": _("left knee"), "right_knee": _("right knee")},
        "exercises": {"squat": _("squats"), "arm_raise": _("arm raises"),
                      "jumping_jack": _("jumping jacks"), "sit_up": _("sit-ups")},
        "door": _("in %(entered)s · out %(left)s · inside %(inside)s", entered="{entered}",
                  left="{left}", inside="{inside}"),
    }
