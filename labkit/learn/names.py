"""Safe names for classes and projects a student types (Chinese welcome).

Names end up in folder listings, labels files, ONNX metadata and on the page, so they are
checked once here: not empty, not too long, no path tricks (`/`, `\\`, `..`), no control
characters, and unique ignoring case (and full-/half-width forms) within one project.
"""

from __future__ import annotations

import unicodedata
from typing import Iterable


from labkit.errors import LabkitError
from labkit.errors import lazy_gettext as _

MAX_NAME_CHARS = 40
MIN_CLASSES = 2
MAX_CLASSES = 6


def name_key(name: str) -> str:
    """The form two names are compared in: NFKC-normalised, case-folded, trimmed."""
    return unicodedata.normalize("NFKC", name).casefold().strip()


def clean_name(raw: object, *, what: str = "class") -> str:
    """A trimmed, NFC-normalised name, or a LabkitError saying what is wrong with it."""
    label = _("class name") if what == "class" else _("project name")
    if not isinstance(raw, str):
        raise LabkitError(_("The %(what)s must be text.", what=label), code="bad_name",
                          fix=_("Type a short name such as 苹果 or apple."))
    name = unicodedata.normalize("NFC", raw).strip()
    if not name:
        raise LabkitError(_("The %(what)s is empty.", what=label), code="bad_name",
                          fix=_("Type a short name such as 苹果 or apple."))
    if len(name) > MAX_NAME_CHARS:
        raise LabkitError(_("The %(what)s is longer than %(n)s characters.", what=label,
                            n=MAX_NAME_CHARS),
                          code="bad_name", fix=_("Use a shorter name."))
    if "/" in name or "\\" in name or ".." in name:
        raise LabkitError(_("The %(what)s %(name)s may not contain / or \\ or '..'.",
                            what=label, name=repr(name)),
                          code="bad_name", fix=_("Use letters, digits, spaces or Chinese characters."))
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Zl", "Zp") for ch in name):
        raise LabkitError(_("The %(what)s contains invisible control characters.", what=label),
                          code="bad_name", fix=_("Type the name again by hand."))
    return name


def check_class_names(names: Iterable[object], *, allow_fewer: bool = False) -> list[str]:
    """Validate a whole list of class names: 2–6 of them, each safe, none repeated."""
    cleaned = [clean_name(n) for n in names]
    if not allow_fewer and len(cleaned) < MIN_CLASSES:
        raise LabkitError(_("A classifier needs at least two classes."), code="too_few_classes",
                          fix=_("Add another class and record samples for it."))
    if len(cleaned) > MAX_CLASSES:
        raise LabkitError(_("At most %(n)s classes are allowed.", n=MAX_CLASSES),
                          code="too_many_classes", fix=_("Remove a class."))
    seen: dict[str, str] = {}
    for name in cleaned:
        key = name_key(name)
        if key in seen:
            raise LabkitError(_("Two classes are both called %(name)s.", name=repr(name)),
                              code="duplicate_class", fix=_("Give every class its own name."))
        seen[key] = name
    return cleaned
