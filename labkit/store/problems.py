"""Errors whose message can be shown in the reader's language.

The store and the lab framework sit below the web layer, so they cannot call Flask-Babel
themselves. They raise `Problem`: a `LabkitError` that also keeps the English message id and
its parameters; the web layer translates it (`gettext(msgid, **params)`), the CLI prints the
English text. Message ids are marked with `N_` so `python -m labkit.i18n check` finds them.
"""

from __future__ import annotations

from typing import Any

from labkit.errors import LabkitError


def N_(message: str) -> str:
    """Mark a message id for extraction without translating it here."""
    return message


class Problem(LabkitError):
    """A LabkitError with a translatable message id and fix."""

    def __init__(self, msgid: str, *, fix: str = "", code: str = "bad_input",
                 **params: Any) -> None:
        self.msgid = msgid
        self.fix_msgid = fix
        self.params = params
        super().__init__(msgid % params if params else msgid,
                         fix=(fix % params if params else fix) if fix else "", code=code)


class RosterImportError(Problem):
    """A roster file with one or more bad lines; `problems` lists each (line, Problem)."""

    def __init__(self, problems: list[tuple[int, Problem]]) -> None:
        self.problems = problems
        first = "; ".join(f"line {line}: {p.message}" for line, p in problems[:3])
        more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
        super().__init__(N_("The roster file has %(count)s problem(s); nothing was imported."),
                         fix=N_("Fix the lines listed and import the file again."),
                         code="bad_roster", count=len(problems))
        self.message = f"{self.message} {first}{more}"
