"""Programs a student saved from the code page: their portfolio's code, one JSON file each.

Stored in the student's portfolio folder, `<data>/portfolio/<student id>/programs/<program
id>.json` (name, source, when, and for a blocks program its Blockly workspace, so it reopens
as blocks), sealed with the kit's data key (`labkit.atrest`) like every other file a child
keeps: a program's text can name its author or their friends. Written atomically, so removing
or purging a student removes their programs with their other kept files. Only the student and
the teacher open them (the web layer checks). Saving again with the same id replaces the
program; a student keeps at most MAX_PROGRAMS. A file an older kit wrote in clear is read as
it is and sealed on start (`seal_clear_files`).

A program the student copies to a terminal (`python my_program.py`) is their own file, not
this store: it is not sealed.
"""

from __future__ import annotations

import json
import re
import secrets
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from labkit.atrest import SealBroken, Sealer, sealer_for
from labkit.errors import LabkitError, lazy_gettext as _

MAX_PROGRAMS = 200
MAX_SOURCE_CHARS = 100_000
MAX_NAME_CHARS = 60
MAX_BLOCKS_CHARS = 400_000          # a workspace's JSON: ~500 blocks
_ID = re.compile(r"^[0-9a-f]{12}$")


@dataclass(frozen=True)
class Program:
    id: str
    student_id: int
    name: str
    source: str
    saved_at: float
    blocks: dict[str, Any] | None = None      # Blockly.serialization JSON, for blocks programs

    def summary(self) -> dict[str, object]:
        return {"id": self.id, "name": self.name, "saved_at": self.saved_at,
                "lines": self.source.count("\n") + 1,
                "kind": "python" if self.blocks is None else "blocks"}

    def to_json(self) -> dict[str, object]:
        return {**self.summary(), "source": self.source, "blocks": self.blocks}


class ProgramBook:
    """Save, list and open the programs of each student."""

    def __init__(self, portfolio_root: Path, sealer: Sealer | None = None) -> None:
        self.root = Path(portfolio_root)
        # the portfolio folder sits in the data dir, next to the data key
        self.sealer = sealer or sealer_for(self.root.parent)

    def _folder(self, student_id: int) -> Path:
        return self.root / str(int(student_id)) / "programs"

    def save(self, student_id: int, name: str, source: str,
             program_id: str | None = None, *, blocks: Any = None) -> Program:
        name = " ".join(str(name).split())[:MAX_NAME_CHARS]
        if not name:
            raise LabkitError(_("Give the program a name."), code="bad_input",
                              fix=_("Type a name next to Save."))
        if not isinstance(source, str) or len(source) > MAX_SOURCE_CHARS:
            raise LabkitError(_("The program is too long (at most %(n)s characters).",
                                n=MAX_SOURCE_CHARS), code="too_large",
                              fix=_("Split it into smaller programs."))
        if blocks is not None:
            if not isinstance(blocks, dict) or not isinstance(blocks.get("blocks", {}), dict):
                raise LabkitError(_("The blocks could not be read."), code="bad_input",
                                  fix=_("Save again from the Blocks tab."))
            if len(json.dumps(blocks, ensure_ascii=False)) > MAX_BLOCKS_CHARS:
                raise LabkitError(_("The blocks program is too big to keep."), code="too_large",
                                  fix=_("Split it into smaller programs."))
        if program_id is not None:
            self.get(student_id, program_id)        # it must exist and be theirs
        else:
            if len(self.list(student_id)) >= MAX_PROGRAMS:
                raise LabkitError(_("You have saved %(n)s programs, the most a student may keep.",
                                    n=MAX_PROGRAMS), code="too_many",
                                  fix=_("Save over one of your programs instead."))
            program_id = secrets.token_hex(6)
        program = Program(program_id, int(student_id), name, source, time.time(), blocks)
        self.sealer.write(self._folder(student_id) / f"{program_id}.json",
                          json.dumps(asdict(program), ensure_ascii=False).encode("utf-8"))
        return program

    def list(self, student_id: int) -> list[Program]:
        folder = self._folder(student_id)
        out = []
        for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
            program = self._load(path)
            if program is not None:
                out.append(program)
        return sorted(out, key=lambda p: p.saved_at, reverse=True)

    def get(self, student_id: int, program_id: str) -> Program:
        if not isinstance(program_id, str) or not _ID.match(program_id):
            program = None
        else:
            program = self._load(self._folder(student_id) / f"{program_id}.json")
        if program is None:
            raise LabkitError(_("There is no such program."), code="not_found",
                              fix=_("Open one from the list of your programs."))
        return program

    def _load(self, path: Path) -> Program | None:
        try:
            data = json.loads(self.sealer.read(path).decode("utf-8"))
            blocks = data.get("blocks")
            return Program(str(data["id"]), int(data["student_id"]), str(data["name"]),
                           str(data["source"]), float(data["saved_at"]),
                           blocks if isinstance(blocks, dict) else None)
        except (OSError, ValueError, KeyError, TypeError, AttributeError, SealBroken):
            return None

    def seal_clear_files(self) -> int:
        """Seal the programs an older kit saved in clear (run on start); how many.

        Each file is re-written atomically (`Sealer.seal_in_place`): after a power cut it is
        the clear or the sealed file, and both are read."""
        if not self.root.is_dir():
            return 0
        return self.sealer.seal_all(sorted(self.root.glob("*/programs/*.json")))

    def remove_student(self, student_id: int) -> None:
        """Forget every program of a student (when the student is removed from the kit)."""
        shutil.rmtree(self._folder(student_id), ignore_errors=True)
