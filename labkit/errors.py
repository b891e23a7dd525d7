"""One error type for everything a user can get wrong.

A `LabkitError` carries a plain-words message and the fix, so the CLI can print one line and
exit 2, and the web layer can turn it into a JSON error without a traceback.
"""

from __future__ import annotations


class LabkitError(Exception):
    """A problem the user can fix; `code` is a stable machine-readable slug."""

    exit_code = 2

    def __init__(self, message: str, *, fix: str = "", code: str = "bad_input") -> None:
        super().__init__(message)
        self.message = message
        self.fix = fix
        self.code = code

    def one_line(self) -> str:
        """The message and the fix on one line, for terminals and logs."""
        return f"{self.message} — {self.fix}" if self.fix else self.message
