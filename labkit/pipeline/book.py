"""Pipelines a student saved from the page: `<data>/portfolio/<student>/pipelines/<name>.yaml`.

Kept in the student's portfolio folder, sealed with the kit's data key like every file a child
keeps (`labkit.atrest`; a pipeline's spoken text may name a friend), so removing or purging a
student removes them with their other files. Each file is checked before it is kept (a file
that does not check is refused with its line); saving a pipeline of the same name replaces
it. The web layer decides who may open whose (the student and the teacher).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from labkit.atrest import SealBroken, Sealer, sealer_for
from labkit.errors import LabkitError
from labkit.errors import lazy_gettext as _
from labkit.pipeline.spec import ID, Pipeline, parse

MAX_PIPELINES = 100
MAX_CHARS = 20_000


@dataclass(frozen=True)
class Saved:
    student_id: int
    name: str
    text: str
    saved_at: float

    def summary(self) -> dict[str, Any]:
        return {"student_id": self.student_id, "name": self.name, "saved_at": self.saved_at}


class PipelineBook:
    """Save, list and open each student's pipelines."""

    def __init__(self, portfolio_root: str | Path, sealer: Sealer | None = None) -> None:
        self.root = Path(portfolio_root)
        self.sealer = sealer or sealer_for(self.root.parent)

    def _folder(self, student_id: int) -> Path:
        return self.root / str(int(student_id)) / "pipelines"

    def save(self, student_id: int, text: str, *, wiring: Any = None) -> Pipeline:
        if not isinstance(text, str) or len(text) > MAX_CHARS:
            raise LabkitError(_("The pipeline is too long (at most %(n)s characters).",
                                n=MAX_CHARS), code="too_large",
                              fix=_("Use fewer blocks."))
        spec = parse(text, wiring=wiring)
        path = self._folder(student_id) / f"{spec.name}.yaml"
        if not path.exists() and len(self.list(student_id)) >= MAX_PIPELINES:
            raise LabkitError(_("You have saved %(n)s pipelines, the most a student may keep.",
                                n=MAX_PIPELINES), code="too_many",
                              fix=_("Save over one of your pipelines instead."))
        self.sealer.write(path, text.encode("utf-8"))
        return spec

    def list(self, student_id: int) -> list[Saved]:
        folder = self._folder(student_id)
        found = [self._load(student_id, p) for p in sorted(folder.glob("*.yaml"))] \
            if folder.is_dir() else []
        return sorted((s for s in found if s is not None), key=lambda s: s.saved_at,
                      reverse=True)

    def everyone(self) -> list[Saved]:
        """Every student's pipelines (for the teacher)."""
        out: list[Saved] = []
        for folder in sorted(self.root.glob("*/pipelines")) if self.root.is_dir() else []:
            if folder.parent.name.isdigit():
                out.extend(self.list(int(folder.parent.name)))
        return out

    def get(self, student_id: int, name: str) -> Saved:
        saved = self._load(student_id, self._folder(student_id) / f"{name}.yaml") \
            if isinstance(name, str) and ID.match(name) else None
        if saved is None:
            raise LabkitError(_("There is no such pipeline."), code="not_found",
                              fix=_("Open one from the list of saved pipelines."))
        return saved

    def _load(self, student_id: int, path: Path) -> Saved | None:
        try:
            text = self.sealer.read(path).decode("utf-8")
            return Saved(int(student_id), path.stem, text, path.stat().st_mtime)
        except (OSError, ValueError, SealBroken):
            return None


