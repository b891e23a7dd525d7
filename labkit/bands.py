"""The three grade bands every lab, lesson, plan and page belongs to — listed once, here.

    experience  体验      primary school, grades 1–6: see and play with AI
    cognition   认知      middle school, grades 7–9: how it works, and where it fails
    creative    创新实践  high school, grades 10–12: build something of one's own

Names are `labkit.errors.Message`s, translated where they are shown.
"""

from __future__ import annotations

from dataclasses import dataclass

from labkit.errors import LabkitError, Message
from labkit.errors import lazy_gettext as _


@dataclass(frozen=True)
class Band:
    id: str
    name: Message          # "Experience" → 体验
    school: Message        # "Primary school" → 小学
    grades: tuple[int, int]

    def __contains__(self, grade: object) -> bool:
        return isinstance(grade, int) and self.grades[0] <= grade <= self.grades[1]


ALL: tuple[Band, ...] = (
    Band("experience", _("Experience"), _("Primary school"), (1, 6)),
    Band("cognition", _("Understanding"), _("Middle school"), (7, 9)),
    Band("creative", _("Creative practice"), _("High school"), (10, 12)),
)
BANDS: tuple[str, ...] = tuple(b.id for b in ALL)
BY_ID = {b.id: b for b in ALL}


def band(band_id: str) -> Band:
    """The band called `band_id`, or a LabkitError naming the ones that exist."""
    try:
        return BY_ID[band_id]
    except KeyError:
        raise LabkitError(_("There is no band called %(band)s.", band=repr(band_id)),
                          code="unknown_band",
                          fix=_("Use one of: %(bands)s.", bands=", ".join(BANDS))) from None


def for_grade(grade: int) -> Band:
    """The band a school grade (1–12) belongs to."""
    for b in ALL:
        if grade in b:
            return b
    raise LabkitError(_("Grade %(grade)s is not a school grade.", grade=grade),
                      code="bad_grade", fix=_("Use a grade from 1 to 12."))
