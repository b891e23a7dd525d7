"""Errors whose message can be shown in the reader's language.

`Problem` is a `LabkitError` whose message and fix are `labkit.errors.Message`s built from an
English message id and parameters, so whoever shows it — the web layer for a request, the CLI
for `LABKIT_LANG` — shows it translated. It also keeps `msgid`, `fix_msgid` and `params`.
Message ids are marked with `N_` so `python -m labkit.i18n check` finds them.
"""

from __future__ import annotations

from typing import Any

from labkit.errors import LabkitError, Message


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
        super().__init__(Message(msgid, **params), fix=Message(fix, **params) if fix else "",
                         code=code)


class RosterImportError(Problem):
    """A roster file with one or more bad lines; `problems` lists each (line, Problem)."""

    def __init__(self, problems: list[tuple[int, Problem]]) -> None:
        self.problems = problems
        super().__init__(N_("The roster file has %(count)s problem(s); nothing was imported."),
                         fix=N_("Fix the lines listed and import the file again."),
                         code="bad_roster", count=len(problems))

    @property
    def message(self) -> str:
        """The summary and the first three bad lines (the page lists every line itself)."""
        first = "; ".join(f"line {line}: {p.message}" for line, p in self.problems[:3])
        more = f" (and {len(self.problems) - 3} more)" if len(self.problems) > 3 else ""
        return f"{self.message_text} {first}{more}"
