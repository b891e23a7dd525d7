"""Curriculum fixtures: a copy of the package's plans and labs to break in specific ways."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any, Callable

import pytest
import yaml

from labkit.curriculum import PACKAGE_CURRICULUM
from labkit.projects.discovery import PACKAGE_LABS


@pytest.fixture
def curriculum_copy(tmp_path: Path) -> Path:
    """tmp/curriculum (plans + schema) beside tmp/labs (a copy of the package's labs)."""
    root = tmp_path / "curriculum"
    shutil.copytree(PACKAGE_CURRICULUM, root, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    shutil.copytree(PACKAGE_LABS, tmp_path / "labs",
                    ignore=shutil.ignore_patterns("__pycache__"))
    return root


@pytest.fixture
def edit_lesson(curriculum_copy: Path) -> Callable[[Callable[[dict[str, Any]], None]], Path]:
    """Change the example lab's lab.yaml with a function and write it back."""
    path = curriculum_copy.parent / "labs" / "experience" / "face_led" / "lab.yaml"

    def edit(change: Callable[[dict[str, Any]], None]) -> Path:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        change(data)
        path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
        return curriculum_copy
    return edit
