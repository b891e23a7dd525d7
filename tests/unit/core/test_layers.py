"""The layer contracts of `make lint` (setup.cfg [importlinter]) hold, and really fail on an
upward import: the same `lint-imports` run on a copy of labkit with one bad module added."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
FIXTURES = ROOT / "tests" / "fixtures" / "layering"
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"

pytestmark = pytest.mark.skipif(not LINT_IMPORTS.exists(),
                                reason="import-linter is not installed (make dev-venv)")


def _labkit_copy(tmp_path: Path) -> Path:
    """labkit's Python sources and the lint configuration, in a folder of their own."""
    shutil.copytree(ROOT / "labkit", tmp_path / "labkit",
                    ignore=lambda d, names: [n for n in names if not (
                        n.endswith(".py") or (Path(d) / n).is_dir()) or n == "__pycache__"])
    shutil.copy(ROOT / "setup.cfg", tmp_path / "setup.cfg")
    return tmp_path


def _lint(tree: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    return subprocess.run([str(LINT_IMPORTS), "--no-cache", "setup.cfg"], cwd=tree,
                          env=env, capture_output=True, text=True, timeout=300, check=False)


def test_labkit_keeps_its_layers(tmp_path: Path) -> None:
    res = _lint(_labkit_copy(tmp_path))
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-2000:]
    assert "2 kept, 0 broken" in res.stdout


LAYERS = r"labkit layers: a module imports only from layers below its own\s*BROKEN"
WEB_ONLY = r"are used by labkit.web only\s*BROKEN"


@pytest.mark.parametrize("fixture, into, contract, broken", [
    ("drivers_imports_web.py", "drivers", LAYERS,
     "labkit.drivers.drivers_imports_web -> labkit.web.errors"),
    ("store_imports_runtime.py", "store", LAYERS,
     "labkit.store.store_imports_runtime -> labkit.runtime"),
    ("learn_imports_flask_babel.py", "learn", WEB_ONLY,
     "labkit.learn.learn_imports_flask_babel -> flask_babel"),
])
def test_an_upward_import_breaks_the_lint(tmp_path: Path, fixture: str, into: str,
                                          contract: str, broken: str) -> None:
    tree = _labkit_copy(tmp_path)
    shutil.copy(FIXTURES / fixture, tree / "labkit" / into / fixture)
    res = _lint(tree)
    assert res.returncode == 1, res.stdout[-3000:] + res.stderr[-2000:]
    assert re.search(contract, res.stdout), res.stdout[-3000:]
    assert broken in res.stdout
