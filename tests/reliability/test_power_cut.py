"""Power cut (kill -9 at random moments) while the kit saves portfolio files, /learn samples,
trained models and lab runs: every save that returned is intact, nothing is half-written, the
store opens cleanly and `PRAGMA integrity_check` is ok.

Every run makes 100 trials (`LABKIT_POWER_CUT_TRIALS` changes that). Each writer is forked from
a forkserver that imported it once, so a trial costs its writing time, not an interpreter start.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import random
import time
from pathlib import Path
from typing import Any

import pytest

from labkit.datadir import tidy_data_dir
from labkit.learn.dataset import ProjectStore
from labkit.store import Store
from tests.reliability.power_cut_writer import write_until_killed
from tests.reliability.figures import record

def _trials() -> int:
    return int(os.environ.get("LABKIT_POWER_CUT_TRIALS", "100"))


def _forkserver() -> Any:
    """A multiprocessing context whose children are forked from an interpreter that has
    imported the writer (and with it numpy and the store) once."""
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["__main__", "tests.reliability.power_cut_writer", "jsonschema", "cv2"])
    return ctx


def _wait_ready(log: Path, proc: Any, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if log.exists() and log.read_text().startswith("ready\n"):
            return
        assert proc.is_alive(), f"the writer died before it was ready ({proc.exitcode})"
        time.sleep(0.002)
    raise AssertionError("the writer did not get ready")


def _check_returned(check: Store, reloaded: Any, items: list[list]) -> None:
    """Every save in `items` that returned is whole."""
    ids = {s.id for c in reloaded.classes for s in c.samples}
    for item in items:
        if item[0] == "run":
            steps = check.db.query("SELECT step_id FROM step_results WHERE run_id = ?",
                                   (item[1],))
            status = check.db.one("SELECT status FROM runs WHERE id = ?", (item[1],))
            assert len(steps) == 3 and status["status"] == "stopped", item
        elif item[0] == "artefact":
            art = check.artefacts.get(item[1])
            assert hashlib.sha256(check.artefacts.read(art)).hexdigest() == item[2]
        elif item[0] == "sample":
            assert item[2] in ids, item


@pytest.mark.slow
def test_kill_9_at_random_moments_loses_no_save_that_returned(tmp_path: Path) -> None:
    data = tmp_path / "data"
    store = Store(data)
    kid = store.roster.add_student(store.roster.add_class("一班").id, "王芳")
    run = store.runs.start(kid.id, lesson_id="face_led", project_id="face_led", steps_total=1)
    store.close()
    project = ProjectStore(data).create("猫狗", "image", ["猫", "狗"], owner=kid.id)
    state = {"kid": kid.id, "run": run, "project": project.id}
    ctx = _forkserver()
    rng = random.Random(20)
    returned: list[list] = []
    artefacts_read = 0          # artefact rows before this id were read whole already
    for trial in range(_trials()):
        log = tmp_path / f"said-{trial}.log"
        proc = ctx.Process(target=write_until_killed, args=(str(data), state, trial, str(log)),
                           daemon=True)
        proc.start()
        _wait_ready(log, proc)
        time.sleep(rng.uniform(0.05, 0.45))
        proc.kill()
        proc.join()
        lines = log.read_text().split("\n")[1:-1]   # a line cut by the kill has no newline
        new = [json.loads(line) for line in lines]
        returned += new

        # what a restart does, then check the saves that returned in this trial whole (rows
        # of earlier trials are read back once more at the end)
        tidy_data_dir(data, stale_after=0)
        assert not list(data.rglob("*.tmp"))
        check = Store(data)
        try:
            assert check.db.integrity_check() == "ok"
            reloaded = ProjectStore(data).get(project.id)
            _check_returned(check, reloaded, [i for i in new if i[0] != "artefact"])
            for c in reloaded.classes:           # every listed sample has a whole file
                for s in c.samples:
                    assert (reloaded.class_dir(c.id) / s.file).stat().st_size > 100
            promised = {i[1]: i[2] for i in new if i[0] == "artefact"}
            for row in check.db.query("SELECT id FROM artefacts WHERE id > ?",
                                      (artefacts_read,)):     # rows this trial wrote: whole
                whole = check.artefacts.read(check.artefacts.get(row["id"]))
                if row["id"] in promised:
                    assert hashlib.sha256(whole).hexdigest() == promised.pop(row["id"])
                artefacts_read = max(artefacts_read, row["id"])
            assert not promised, f"saves that returned but have no row: {promised}"
        finally:
            check.close()
    # at the end, every save that ever returned is read back whole once more
    check = Store(data)
    try:
        _check_returned(check, ProjectStore(data).get(project.id), returned)
        for row in check.db.query("SELECT id FROM artefacts"):
            check.artefacts.read(check.artefacts.get(row["id"]))
    finally:
        check.close()
    kinds = {k: sum(1 for r in returned if r[0] == k) for k in ("run", "artefact", "sample")}
    assert all(kinds.values()), kinds
    record("power_cut", {"trials": _trials(), "saves_returned": len(returned), **{
        f"{k}s_checked": v for k, v in kinds.items()}, "failures": 0})
