"""Every lab that exists is tested by existing: its folder is valid and its demo scenario,
played on a simulated clock with the real detectors, turns every step green.

A new lab folder under labkit/labs/ needs no test of its own for this; write lab-specific
tests (game logic, a checks.py) beside it only for what the demo cannot show.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from labkit.projects.clock import SimClock
from labkit.projects.discovery import PACKAGE_LABS
from labkit.projects.registry import discover
from labkit.projects.runner import LabRunner
from tests.fixtures.labs import FIXTURE_LABS

PACKAGE = discover([(PACKAGE_LABS, "package")])
FIXTURES = discover([(FIXTURE_LABS, "fixture")])
ALL = {**{i: PACKAGE for i in PACKAGE.specs}, **{i: FIXTURES for i in FIXTURES.specs}}
WALL_LIMIT_S = 120


def test_every_lab_folder_is_valid() -> None:
    assert PACKAGE.problems == [] and FIXTURES.problems == []
    assert PACKAGE.specs, "no labs found"


@pytest.mark.parametrize("lab_id", sorted(PACKAGE.specs))
def test_every_lab_has_a_demo(lab_id: str) -> None:
    assert PACKAGE.specs[lab_id].data.get("demo"), f"{lab_id}: add a demo: scenario"


@pytest.mark.parametrize("lab_id", sorted(ALL))
def test_the_demo_turns_every_step_green(lab_id: str, runtime: Any, store: Any,
                                         model_store: Any, data_dir: Path) -> None:
    (data_dir / "models").symlink_to(model_store.models_dir, target_is_directory=True)
    before = _files(data_dir)
    labs = ALL[lab_id]
    kid = store.roster.add_student(store.roster.add_class("一班").id, "王芳")
    runner = LabRunner(runtime, store, labs, clock=SimClock(1_000_000.0))
    lab = runner.start(lab_id, student_id=kid.id, demo=True)   # the lab's own steps
    try:
        deadline = time.monotonic() + WALL_LIMIT_S
        while not lab.demo_done and time.monotonic() < deadline:
            time.sleep(0.05)
        snap = lab.snapshot()
        assert lab.demo_done, f"{lab_id}: the demo did not finish in {WALL_LIMIT_S} s"
        assert lab.errors == 0 and not lab.last_error, lab.last_error
        open_steps = [s["step"] for s in snap["steps"] if not s["passed"]]
        assert not open_steps, (f"{lab_id}: steps not green after the demo: {open_steps}; "
                                f"checks: {snap['checks']}")
        assert lab.complete
    finally:
        runner.stop()
    # privacy by default: playing a lab (no one pressed save) leaves no picture or sound on disk
    written = {p for p, stamp in _files(data_dir).items() if before.get(p) != stamp}
    media = [p for p in written if _is_media(data_dir / p)]
    assert not media, f"{lab_id}: wrote camera frames or audio without a save: {media}"


MEDIA_HEADERS = (b"\xff\xd8\xff", b"\x89PNG", b"RIFF", b"GIF8", b"\x93NUMPY", b"PK\x03\x04")


def _files(root: Path) -> dict[str, tuple[int, int]]:
    """Every regular file under root (not following the models link) with size and mtime."""
    out = {}
    for path in root.rglob("*"):
        if path.is_symlink() or not path.is_file():
            continue
        st = path.stat()
        out[str(path.relative_to(root))] = (st.st_size, st.st_mtime_ns)
    return out


def _is_media(path: Path) -> bool:
    try:
        with path.open("rb") as f:
            head = f.read(8)
    except OSError:
        return False
    return head.startswith(MEDIA_HEADERS)

