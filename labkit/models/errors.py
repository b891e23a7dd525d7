"""The model store's error type.

A `ModelError` is a `LabkitError`, so the CLI prints one line and exits 2 and the web layer
answers JSON — a damaged or missing model is something an IT teacher can fix, not a crash.
"""

from __future__ import annotations

from labkit.errors import LabkitError


class ModelError(LabkitError):
    """A model that is missing, damaged, unknown or cannot run here."""

    def __init__(self, message: str, *, fix: str = "", code: str = "model") -> None:
        super().__init__(message, fix=fix, code=code)
