"""Curriculum fixtures: a copy of the repo's curriculum to break in specific ways."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any, Callable

import pytest
import yaml

from labkit.curriculum import REPO_CURRICULUM


@pytest.fixture
def curriculum_copy(tmp_path: Path) -> Path:
    root = tmp_path / "curriculum"
    shutil.copytree(REPO_CURRICULUM, root)
    return root


@pytest.fixture
def edit_lesson(curriculum_copy: Path) -> Callable[[Callable[[dict[str, Any]], None]], Path]:
    """Change the example lesson with a function and write it back."""
    path = curriculum_copy / "lessons" / "experience" / "face_led.yaml"

    def edit(change: Callable[[dict[str, Any]], None]) -> Path:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        change(data)
        path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
        return curriculum_copy
    return edit
