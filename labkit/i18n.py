"""Message catalogues: where they are, how they are compiled and checked.

Each area of the kit keeps its own catalogue folder under `web/translations/<area>/` (core,
labs, vision, audio …) so parallel work never edits the same .po file; Flask-Babel merges all
of them. Message ids are English; `zh_CN` (the default) must translate every one of them —
`python -m labkit.i18n check` and the test suite fail on a missing translation.

    python -m labkit.i18n compile   # .po → .mo (make run / make test do this)
    python -m labkit.i18n check     # every message used in code/templates is translated
    python -m labkit.i18n missing   # list untranslated message ids as .po stubs
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any


PACKAGE_DIR = Path(__file__).resolve().parent
TRANSLATIONS = PACKAGE_DIR / "web" / "translations"
LOCALES = ("zh_CN", "en")
METHOD_MAP = [
    ("**/templates/**.html", "jinja2"),
    ("**.py", "python"),
]
KEYWORDS = {"_": None, "gettext": None, "lazy_gettext": None, "_l": None,
            "ngettext": (1, 2), "N_": None}


def catalogue_dirs() -> list[Path]:
    """Every area's translations folder (each holds <locale>/LC_MESSAGES/messages.po)."""
    if not TRANSLATIONS.is_dir():
        return []
    return sorted(p for p in TRANSLATIONS.iterdir() if p.is_dir() and not p.name.startswith("."))


def po_files(locale: str | None = None) -> list[Path]:
    out = []
    for area in catalogue_dirs():
        for loc in ([locale] if locale else LOCALES):
            po = area / loc / "LC_MESSAGES" / "messages.po"
            if po.exists():
                out.append(po)
    return out


# Babel parses "zh_CN" as zh_Hans_CN and gettext then looks for that folder name, so the
# compiled zh_CN catalogue is also written under it.
MO_ALIASES = {"zh_CN": ("zh_Hans_CN",)}


def compile_all() -> int:
    """Compile every .po next to itself (and its aliases); returns how many were written."""
    # the catalogue tools are imported where used: serving pages needs only the .mo files
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    count = 0
    for po in po_files():
        locale = po.parent.parent.name
        area = po.parent.parent.parent
        targets = [po.with_suffix(".mo")] + [area / alias / "LC_MESSAGES" / "messages.mo"
                                              for alias in MO_ALIASES.get(locale, ())]
        if all(t.exists() and t.stat().st_mtime >= po.stat().st_mtime for t in targets):
            continue
        with po.open("rb") as f:
            catalog = read_po(f)
        for mo in targets:
            mo.parent.mkdir(parents=True, exist_ok=True)
            with mo.open("wb") as f:
                write_mo(f, catalog, use_fuzzy=False)
        count += 1
    return count


def translations(locale: str) -> Any:
    """Every area's compiled catalogue for `locale`, merged, as a Babel `Translations` — how
    text outside the web app (the CLI, for `LABKIT_LANG`) is translated. English or missing
    .mo files give the message ids themselves."""
    from babel.support import NullTranslations, Translations

    merged_catalogue: Any = None
    for area in catalogue_dirs():
        loaded = Translations.load(str(area), [locale])
        if not isinstance(loaded, Translations):
            continue
        if merged_catalogue is None:
            merged_catalogue = loaded
        else:
            merged_catalogue.merge(loaded)
    return merged_catalogue if merged_catalogue is not None else NullTranslations()


def merged(locale: str) -> dict[str, str]:
    """All areas' catalogues for one locale, merged: message id → translation."""
    from babel.messages.pofile import read_po

    out: dict[str, str] = {}
    for po in po_files(locale):
        with po.open("rb") as f:
            for msg in read_po(f):
                # a plural message (ngettext) has a tuple id: both forms are "translated"
                ids = msg.id if isinstance(msg.id, tuple) else (msg.id,)
                text = msg.string if isinstance(msg.string, str) else (msg.string or ("",))[0]
                for mid in ids:
                    if isinstance(mid, str) and mid and not out.get(mid):
                        out[mid] = text
    return out


def used_messages() -> dict[str, list[str]]:
    """Message ids used in labkit's code and templates → where they are used."""
    from babel.messages.extract import extract_from_dir

    found: dict[str, list[str]] = {}
    for filename, lineno, message, _comments, _ctx in extract_from_dir(
        str(PACKAGE_DIR), method_map=METHOD_MAP, keywords=KEYWORDS,
    ):
        ids = message if isinstance(message, tuple) else (message,)
        for mid in ids:
            if mid:
                found.setdefault(mid, []).append(f"{filename}:{lineno}")
    return found


def untranslated(locale: str = "zh_CN") -> dict[str, list[str]]:
    catalog = merged(locale)
    return {mid: where for mid, where in used_messages().items()
            if not catalog.get(mid)}


def main(argv: list[str]) -> int:
    cmd = argv[0] if argv else "compile"
    if cmd == "compile":
        n = compile_all()
        print(f"compiled {n} catalogue(s)")
        return 0
    if cmd in ("check", "missing"):
        missing = untranslated("zh_CN")
        if cmd == "missing":
            for mid, where in sorted(missing.items()):
                print(f"#: {where[0]}\nmsgid {json.dumps(mid, ensure_ascii=False)}\nmsgstr \"\"\n")
        elif missing:
            for mid, where in sorted(missing.items()):
                print(f"untranslated in zh_CN: {mid!r} ({where[0]})", file=sys.stderr)
        return 1 if missing else 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
