"""Page parts a lab.yaml may ask for (`parts:`), and the live settings its sliders change.

Panels (camera, bench, sound meter) follow from what a lab uses; these parts are asked for,
because they belong to a lesson rather than to a detector: the colour lab shows its
threshold sliders, the robustness lab its picture-worsening sliders, the sorting lab its
confusion matrices. The web page renders each part; the route that moves a slider calls
`apply_setting` on the running lab, so the same validation serves the page, a test and a
program.

    parts:
      - {part: sliders, detector: red, sliders: [hue, saturation, min_area]}
      - {part: sliders, detector: faces, sliders: [dark, blur, rotate, occlude]}
      - {part: confusion, detector: sorter}
      - {part: teachable, detector: sorter}    # pick one of my /learn projects for the run
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from labkit.drivers.degrade import DEGRADATIONS
from labkit.errors import LabkitError
from labkit.errors import lazy_gettext as _


@dataclass(frozen=True)
class Slider:
    """One slider: its range and step, and whether it tunes the detector or the picture."""

    name: str
    low: float
    high: float
    step: float
    default: float
    target: str          # "detector" (its own setting) or "picture" (before detection)
    detectors: tuple[str, ...] = ()   # detector kinds it tunes; () = every vision detector

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


SLIDERS: dict[str, Slider] = {s.name: s for s in (
    Slider("hue", 0, 179, 1, 0, "detector", ("colour",)),
    Slider("saturation", 0, 255, 5, 120, "detector", ("colour",)),
    Slider("min_area", 0, 0.1, 0.001, 0.002, "detector", ("colour",)),
    Slider("dark", *DEGRADATIONS["dark"], 0.05, 0, "picture"),
    Slider("blur", *DEGRADATIONS["blur"], 0.005, 0, "picture"),
    Slider("rotate", *DEGRADATIONS["rotate"], 5, 0, "picture"),
    Slider("occlude", *DEGRADATIONS["occlude"], 0.05, 0, "picture"),
)}

#: part → the detector kinds it works with (None: any vision detector)
PARTS: dict[str, tuple[str, ...] | None] = {"confusion": ("sorter", "teachable"),
                                            "sliders": None, "teachable": ("teachable", "sound_words")}


#: parts named alone, on no detector (labkit/web/templates/parts/_<name>.html)
NAMED_PARTS = ("talk", "counter", "mirror", "teach", "neighbours", "trials")


def part_problem(part: dict[str, Any] | str, uses: dict[str, Any]) -> str | None:
    """Why a `parts:` entry cannot work with the lab's `uses:`, or None."""
    from labkit.projects.detectors import CAMERA, DETECTORS

    if isinstance(part, str):
        return None if part in NAMED_PARTS else (
            f"{part!r} is not a page part ({', '.join(NAMED_PARTS)}, or sliders/confusion "
            "on a detector)")
    name = part["detector"]
    use = uses.get(name)
    if use is None or "detector" not in use:
        return f"{name!r} is not one of the lab's detectors ({', '.join(sorted(uses)) or '-'})"
    kind = use["detector"]
    wanted = PARTS[part["part"]]
    if wanted is not None and kind not in wanted:
        return f"the {part['part']} part needs a {' or '.join(wanted)} detector, not {kind!r}"
    if DETECTORS[kind].source != CAMERA and part["part"] != "teachable":
        return f"the {part['part']} part needs a camera detector, not {kind!r}"
    if part["part"] == "sliders":
        if not part.get("sliders"):
            return "a sliders part lists its sliders (hue, saturation, min_area, dark, blur …)"
        for s in part["sliders"]:
            allowed = SLIDERS[s].detectors
            if allowed and kind not in allowed:
                return f"the {s!r} slider tunes a {' or '.join(allowed)} detector, not {kind!r}"
    return None


def check_value(name: str, value: Any) -> float:
    """The slider's value as a number inside its range; a LabkitError says what is wrong."""
    slider = SLIDERS.get(name)
    if slider is None:
        raise LabkitError(_("There is no slider called %(name)s.", name=str(name)[:40]),
                          code="bad_input", fix=_("Use one of: %(names)s.",
                                                  names=", ".join(SLIDERS)))
    low, high = format(slider.low, "g"), format(slider.high, "g")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise LabkitError(_("The value of %(name)s must be a number.", name=name),
                          code="bad_input",
                          fix=_("Send a number from %(low)s to %(high)s.", low=low, high=high))
    number = float(value)
    if not slider.low <= number <= slider.high:
        shown = format(number, "g")
        raise LabkitError(_("%(name)s must be from %(low)s to %(high)s, not %(value)s.",
                            name=name, low=low, high=high, value=shown),
                          code="bad_input", fix=_("Move the slider inside its range."))
    return number
