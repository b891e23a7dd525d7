"""What counts as a name on the class roster.

Teachers type names or paste a spreadsheet export, so names are cleaned (Unicode NFC, spaces
collapsed, the ideographic space too) and checked: not empty, not too long for the name buttons
children tap, and made of letters (any script), digits, spaces and the few marks real names use
(· ・ - ' . and brackets). Emoji and other symbols are refused with a message naming the
character, because they break the printed report and make two "same" names look different.
Duplicates are found on a normalised key (NFKC + casefold), so "ＺＨＡＮＧ Wei" and "zhang wei"
collide, and so do "王 芳" and "王芳".
"""

from __future__ import annotations

import re
import unicodedata

from labkit.store.problems import N_, Problem

STUDENT_NAME_MAX = 32
CLASS_NAME_MAX = 40
ALLOWED_MARKS = set("·・.-'’()（）_")
_SPACES = re.compile(r"\s+")


def clean_name(raw: object, *, max_len: int = STUDENT_NAME_MAX) -> str:
    """The cleaned name, or a Problem saying exactly what is wrong with it."""
    if not isinstance(raw, str):
        raise Problem(N_("A name must be text."), code="bad_name")
    name = unicodedata.normalize("NFC", raw)
    name = _SPACES.sub(" ", name.replace("\u3000", " ")).strip()
    if not name:
        raise Problem(N_("The name is empty."), fix=N_("Type a name."), code="bad_name")
    if len(name) > max_len:
        raise Problem(N_("The name \"%(short)s…\" is %(length)s characters long; at most "
                         "%(max)s are allowed."),
                      fix=N_("Shorten the name (a given name or a nickname is enough)."),
                      code="bad_name", short=name[:12], length=len(name), max=max_len)
    for ch in name:
        cat = unicodedata.category(ch)
        if cat[0] in "LMN" or ch == " " or ch in ALLOWED_MARKS:
            continue
        fix = N_("Use letters only: Chinese characters, pinyin or another script.")
        if cat[0] == "S":
            raise Problem(N_("The name \"%(name)s\" contains an emoji or symbol (%(char)s)."),
                          fix=fix, code="bad_name", name=name, char=ch)
        raise Problem(N_("The name \"%(name)s\" contains a character names cannot use "
                         "(U+%(codepoint)s)."),
                      fix=fix, code="bad_name", name=name, codepoint=f"{ord(ch):04X}")
    return name


def name_key(name: str) -> str:
    """The form two names are compared in (full-width = half-width, case and spaces ignored:
    "王 芳" and "王芳" are the same child)."""
    return unicodedata.normalize("NFKC", name).casefold().replace(" ", "")
