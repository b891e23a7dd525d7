"""The door counter lab: its demo counts the walkers right (the one who turns back is not
counted) and writes no picture anywhere under the data dir; its checks.py on hand-written
logs; its pipeline file agrees with the lab; a bad counter option is a lab folder problem."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from labkit.atrest import Sealer, key_path
from labkit.projects.clock import SimClock
from labkit.projects.discovery import PACKAGE_LABS
from labkit.projects.eventlog import EventLog
from labkit.projects.registry import discover
from labkit.projects.runner import LabRunner
from tests.labs.test_every_lab_demo import _files

FOLDER = PACKAGE_LABS / "creative" / "door_counter"
#: magic numbers of pictures, sounds and arrays, looked for anywhere in a file
MEDIA_MAGIC = (b"\xff\xd8\xff\xe0", b"\xff\xd8\xff\xe1", b"\xff\xd8\xff\xdb",   # JPEG
               b"\x89PNG\r\n\x1a\n", b"RIFF", b"GIF87a", b"GIF89a", b"\x93NUMPY", b"WEBP",
               b"/9j/", b"iVBORw0KGgo", b"UklGR")    # the same in base64 (inside JSON text)
FRAME_BYTES = 160 * 120 * 3          # the smallest raw frame a camera could hand over
START = 1_000_000.0


def _contents(path: Path, sealer: Sealer) -> bytes:
    """A file's bytes, unsealed when the kit sealed it (a sealed picture is still a picture)."""
    return sealer.open(path.read_bytes())


def test_the_demo_counts_the_walkers_and_writes_no_picture(runtime: Any, store: Any,
                                                           model_store: Any,
                                                           data_dir: Path) -> None:
    (data_dir / "models").symlink_to(model_store.models_dir, target_is_directory=True)
    before = _files(data_dir)
    labs = discover([(PACKAGE_LABS, "package")])
    kid = store.roster.add_student(store.roster.add_class("二班").id, "李雷")
    runner = LabRunner(runtime, store, labs, clock=SimClock(START))
    lab = runner.start("door_counter", student_id=kid.id, demo=True)
    try:
        deadline = time.monotonic() + 60
        while not lab.demo_done and time.monotonic() < deadline:
            time.sleep(0.05)
        assert lab.demo_done and lab.errors == 0, lab.last_error
        log, t0 = lab.log, START + 1.0           # the walkers start after 1 s of empty door
        # walkers 2.5 s + 0.8 s apart: right, peek_right, right, left (the run is complete
        # once every step is green, so a quick demo ends after the fourth)
        slot = 3.3
        peek = (t0 + slot, t0 + slot + 2.5)
        assert any(peek[0] <= t <= peek[1] for t in log.rises("people")), "the peek was not seen"
        assert log.value_at("entered", peek[1] + 0.5) == 1      # turned back: not counted
        assert log.value_at("entered", t0 + 3 * slot) == 2
        assert log.value_at("went_out", t0 + 4 * slot) == 1
        assert log.value_at("inside", t0 + 4 * slot) == 1
        assert len(log.rises("full")) == 1 and log.count("room_full") == 1
        assert lab.complete
    finally:
        runner.stop()
    # every file the run wrote or changed, read to the end (unsealed where sealed): no
    # picture, sound or array anywhere in it, and nothing the size of a frame was added
    sealer = Sealer(key_path(data_dir))
    after = _files(data_dir)
    written = [data_dir / p for p, stamp in after.items() if before.get(p) != stamp]
    assert written, "the run recorded nothing: the check below would prove nothing"
    for path in written:
        data = _contents(path, sealer)
        found = [m for m in MEDIA_MAGIC if m in data]
        assert not found, f"{path.relative_to(data_dir)} holds {found}"
    # and no value in the database is as long as even a small raw frame
    with sqlite3.connect(f"file:{data_dir / 'labkit.sqlite3'}?mode=ro", uri=True) as db:
        longest = max(_longest_values(db).values())
        kept = dict(db.execute("SELECT name, value FROM run_measures").fetchall())
    assert 0 < longest < FRAME_BYTES, longest
    assert kept == {"entered": 2.0, "went_out": 1.0}      # the run keeps its counts


def _longest_values(db: sqlite3.Connection) -> dict[str, int]:
    """table.column → the length of its longest value."""
    out = {}
    tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    for table in tables:
        for column in [r[1] for r in db.execute(f'PRAGMA table_info("{table}")')]:
            n = db.execute(f'SELECT max(length("{column}")) FROM "{table}"').fetchone()[0]
            out[f"{table}.{column}"] = n or 0
    return out


def _log(entries: list[tuple[float, str, Any]]) -> EventLog:
    log = EventLog(clock=lambda: 100.0)
    for ts, name, value in entries:
        log.record("model" if name != "rgb" else "hw", name, value, ts)
    return log


@pytest.fixture(scope="module")
def checks() -> Any:
    from labkit.projects.discovery import load_checks_py

    found = load_checks_py(FOLDER / "checks.py", "creative", "door_counter")
    return {name: fn for name, (fn, _desc) in found.items()}


def test_red_while_full_needs_red_when_full_and_green_after(checks: Any) -> None:
    red_while_full = checks["red_while_full"]
    ok = _log([(0, "rgb", [0, 1, 0]), (10, "full", True), (10.1, "rgb", [1, 0, 0]),
               (14, "full", False), (14.1, "rgb", [0, 1, 0])])
    assert red_while_full(ok).passed
    never_red = _log([(0, "rgb", [0, 1, 0]), (10, "full", True), (14, "full", False)])
    assert not red_while_full(never_red).passed
    stays_red = _log([(0, "rgb", [0, 1, 0]), (10, "full", True), (10.1, "rgb", [1, 0, 0]),
                      (14, "full", False)])
    assert not red_while_full(stays_red).passed


def test_no_picture_in_the_log_fails_on_a_kept_picture_or_an_image_value(checks: Any) -> None:
    check = checks["no_picture_in_the_log"]
    zeros = [(0, "entered", 0.0), (0, "went_out", 0.0), (0, "full", False)]
    counts = zeros + [(1, "entered", 1), (2, "went_out", 1), (2, "rgb", [0, 1, 0])]
    assert check(_log(counts)).passed
    assert not check(_log(zeros)).passed                 # the counts start at 0: not yet
    assert not check(_log(counts + [(3, "kept", {"n": 1})])).passed
    assert not check(_log(counts + [(3, "frame", [[0, 0, 0]] * 64)])).passed
    assert not check(_log(counts[:4])).passed            # nobody out yet: nothing to show


def test_the_pipeline_file_is_the_labs_rule() -> None:
    lab = yaml.safe_load((FOLDER / "lab.yaml").read_text(encoding="utf-8"))
    pipe = yaml.safe_load((FOLDER / "door_counter.yaml").read_text(encoding="utf-8"))
    blocks = pipe["blocks"]
    ids = [b["id"] for b in blocks]
    assert len(set(ids)) == len(ids)
    for i, block in enumerate(blocks):
        assert {"id", "block"} <= set(block)
        assert block.get("input") is None or block["input"] in ids[:i], block["id"]
    kinds = [b["block"] for b in blocks]
    assert kinds[:3] == ["camera", "line_counter", "compare"] and "rgb" in kinds and "say" in kinds
    door, uses = blocks[1], lab["uses"]["door"]
    assert (door["line"], door["direction"]) == (uses["line"], uses["direction"])
    assert blocks[2]["test"].replace(" ", "") == f"inside>={uses['limit']}"
    assert pipe["demo"][1]["camera"] == lab["demo"][1]["camera"]


@pytest.mark.parametrize("option,why", [
    ({"direction": "inwards"}, "direction"),
    ({"line": 1.5}, "line"),
    ({"limit": 0}, "limit"),
])
def test_a_bad_counter_option_is_a_lab_folder_problem(tmp_path: Path, option: dict,
                                                      why: str) -> None:
    data = yaml.safe_load((FOLDER / "lab.yaml").read_text(encoding="utf-8"))
    data["uses"]["door"].update(option)
    folder = tmp_path / "creative" / "door_counter_test"
    folder.mkdir(parents=True)
    (folder / "lab.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    (folder / "checks.py").write_text((FOLDER / "checks.py").read_text(encoding="utf-8"),
                                      encoding="utf-8")
    found = discover([(tmp_path, "data")])
    assert "door_counter_test" not in found.specs
    assert any(why in p.message for p in found.problems), found.problems
