"""A fresh term on the kit: every class, student, run, score, comment and kept file removed;
the teacher PIN, the kit id, lab packs, models and settings kept.

The rows go in one transaction (a power cut leaves either the old term or the new one), then
the files they referred to (`portfolio/`, `showcase/`). Files left by a cut between the two are
referenced by nothing and are removed by the next reset. Class sessions are kept: they are the
implementation report's record of lessons given (a class name, a grade, hours — no child's
name), and they no longer point to a class. /learn projects live outside the store; the caller
removes them (labkit.learn is a layer above this one).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from labkit import steady

PORTFOLIO_DIR = "portfolio"
SHOWCASE_DIR = "showcase"


@dataclass(frozen=True)
class TermReset:
    classes: int
    students: int
    runs: int
    files: int


def _count(tx: Any, table: str) -> int:
    return int(tx.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])


def _empty_folder(folder: Path) -> int:
    """Remove everything inside `folder` (not the folder); how many files went."""
    if not folder.is_dir():
        return 0
    files = 0
    for child in list(folder.iterdir()):
        if child.is_dir() and not child.is_symlink():
            files += sum(1 for p in child.rglob("*") if not p.is_dir())
            shutil.rmtree(child)
        else:
            child.unlink()
            files += 1
    return files


def reset_term(store: Any) -> TermReset:
    """Remove the term's people and work from `store` (a `labkit.store.Store`)."""
    with store.db.transaction() as tx:
        counts = (_count(tx, "classes"), _count(tx, "students"), _count(tx, "runs"))
        tx.execute("UPDATE class_sessions SET ended_at = ? WHERE ended_at IS NULL",
                   (steady.now(),))
        tx.execute("DELETE FROM classes")     # cascades: students, runs and all they own
        tx.execute("DELETE FROM kit_settings WHERE key LIKE 'roster_order:%'")
        tx.execute("DELETE FROM web_sessions WHERE role = 'student'")
    files = _empty_folder(store.data_dir / PORTFOLIO_DIR)
    files += _empty_folder(store.data_dir / SHOWCASE_DIR)
    return TermReset(*counts, files)
