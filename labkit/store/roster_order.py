"""The order a class's names are listed in, chosen by the teacher per class.

A child finds their name in a 45-name grid by where it usually stands: the teacher picks the
order the class knows — by 学号 (the default: shorter numbers first, so "9" comes before "10";
names without one after them in import order), the order the names were imported or added, or
by pinyin (张 after 王, which code point order puts the other way round). Stored in the kit's
settings table, one key per class.
"""

from __future__ import annotations

from typing import Any, Iterable

from labkit.store.db import Database
from labkit.store.problems import N_, Problem

ORDERS = ("number", "import", "pinyin")
DEFAULT = "number"


def _key(class_id: int) -> str:
    return f"roster_order:{int(class_id)}"


def get_order(db: Database, class_id: int) -> str:
    row = db.one("SELECT value FROM kit_settings WHERE key = ?", (_key(class_id),))
    return row["value"] if row is not None and row["value"] in ORDERS else DEFAULT


def set_order(db: Database, class_id: int, order: object) -> str:
    if order not in ORDERS:
        raise Problem(N_("\"%(order)s\" is not a way to order names."),
                      fix=N_("Choose by student number, import order or pinyin."),
                      code="bad_input", order=str(order)[:40])
    with db.transaction() as tx:
        if order == DEFAULT:
            tx.execute("DELETE FROM kit_settings WHERE key = ?", (_key(class_id),))
        else:
            tx.execute("INSERT OR REPLACE INTO kit_settings (key, value) VALUES (?, ?)",
                       (_key(class_id), order))
    return str(order)


def forget(tx: Any, class_id: int) -> None:
    """A deleted class's choice goes with it (a new class may get its id again)."""
    tx.execute("DELETE FROM kit_settings WHERE key = ?", (_key(class_id),))


def pinyin_key(name: str) -> tuple[str, ...]:
    """A name as toneless-then-tone pinyin syllables (王芳 → wang2 fang1): letters decide,
    the tone only between same-spelled syllables; other characters stand as they are."""
    from pypinyin import Style, lazy_pinyin

    syllables = lazy_pinyin(name, style=Style.TONE3, neutral_tone_with_five=True,
                            errors="default")
    return tuple(s.lower() for s in syllables)


def ordered(students: Iterable[Any], order: str) -> list[Any]:
    """Students (as listed by 学号, then import order) in the class's chosen order."""
    listed = list(students)
    if order == "import":
        return sorted(listed, key=lambda s: s.id)
    if order == "pinyin":
        return sorted(listed, key=lambda s: (pinyin_key(s.name), s.id))
    return listed
