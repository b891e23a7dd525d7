"""Power cut (kill -9 at random moments) while the kit saves portfolio files, /learn samples,
trained models and lab runs: every save that returned is intact, nothing is half-written, the
store opens cleanly and `PRAGMA integrity_check` is ok.

The regular suite runs 8 trials; `LABKIT_POWER_CUT_TRIALS=100` (the slow target) runs 100.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from labkit.datadir import tidy_data_dir
from labkit.learn.dataset import ProjectStore
from labkit.store import Store
from tests.helpers import REPO
from tests.reliability.figures import record

WRITER = r"""
import hashlib, json, os, sys
from pathlib import Path
import numpy as np
from labkit.learn.dataset import ProjectStore
from labkit.store import Store
data = Path(sys.argv[1])
state = json.loads(sys.argv[2])
store = Store(data)
projects = ProjectStore(data)
project = projects.get(state["project"])
print("ready", flush=True)
rng = np.random.default_rng(int(sys.argv[3]))
n = 0
while True:
    n += 1
    kind = n % 4
    if kind == 0:      # a lab run with its steps, then ended
        run = store.runs.start(state["kid"], lesson_id="face_led", project_id="face_led",
                               steps_total=3)
        for i in range(3):
            store.runs.record_step(run, f"s{i}", "c", "x" * 500)
        store.runs.end(run, "stopped")
        print(json.dumps(["run", run]), flush=True)
    elif kind in (1, 2):   # a kept picture or a trained model in the portfolio
        blob = rng.bytes(int(rng.integers(20_000, 400_000)))
        run = state["run"]
        art = (store.artefacts.save(run, "sample", "照片", b"\xff\xd8\xff" + blob, ".jpg")
               if kind == 1 else store.artefacts.save(run, "model", "模型", blob, ".onnx"))
        print(json.dumps(["artefact", art.id, art.sha256]), flush=True)
    else:                  # a /learn sample
        image = rng.integers(0, 255, (96, 96, 3), dtype=np.uint8)
        sample = project.add_sample(project.classes[n % 2].id, image)
        print(json.dumps(["sample", project.classes[n % 2].id, sample.id]), flush=True)
"""


def _trials() -> int:
    return int(os.environ.get("LABKIT_POWER_CUT_TRIALS", "8"))


@pytest.mark.slow
def test_kill_9_at_random_moments_loses_no_save_that_returned(tmp_path: Path) -> None:
    data = tmp_path / "data"
    store = Store(data)
    kid = store.roster.add_student(store.roster.add_class("一班").id, "王芳")
    run = store.runs.start(kid.id, lesson_id="face_led", project_id="face_led", steps_total=1)
    store.close()
    project = ProjectStore(data).create("猫狗", "image", ["猫", "狗"], owner=kid.id)
    state = json.dumps({"kid": kid.id, "run": run, "project": project.id})
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    rng = random.Random(20)
    returned: list[list] = []
    for trial in range(_trials()):
        proc = subprocess.Popen([sys.executable, "-c", WRITER, str(data), state, str(trial)],
                                stdout=subprocess.PIPE, text=True, env=env, cwd=str(REPO))
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
        deadline = time.monotonic() + rng.uniform(0.05, 0.6)
        os.set_blocking(proc.stdout.fileno(), False)
        while time.monotonic() < deadline:
            time.sleep(0.005)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        out = proc.stdout.read() or ""
        whole = out.split("\n")[:-1]        # a line cut by the kill has no newline: not returned
        returned += [json.loads(line) for line in whole if line.startswith("[")]

        # what a restart does, then check every save that returned
        tidy_data_dir(data, stale_after=0)
        assert not list(data.rglob("*.tmp"))
        check = Store(data)
        try:
            assert check.db.integrity_check() == "ok"
            for item in returned:
                if item[0] == "run":
                    steps = check.db.query("SELECT step_id FROM step_results WHERE run_id = ?",
                                           (item[1],))
                    status = check.db.one("SELECT status FROM runs WHERE id = ?", (item[1],))
                    assert len(steps) == 3 and status["status"] == "stopped", item
                elif item[0] == "artefact":
                    art = check.artefacts.get(item[1])
                    assert hashlib.sha256(check.artefacts.read(art)).hexdigest() == item[2]
            reloaded = ProjectStore(data).get(project.id)
            ids = {s.id for c in reloaded.classes for s in c.samples}
            for item in returned:
                if item[0] == "sample":
                    assert item[2] in ids, item
            for c in reloaded.classes:           # every listed sample has a whole file
                for s in c.samples:
                    assert (reloaded.class_dir(c.id) / s.file).stat().st_size > 100
            # no row points at a missing or damaged file
            for row in check.db.query("SELECT id FROM artefacts"):
                check.artefacts.read(check.artefacts.get(row["id"]))
        finally:
            check.close()
    kinds = {k: sum(1 for r in returned if r[0] == k) for k in ("run", "artefact", "sample")}
    assert all(kinds.values()), kinds
    record("power_cut", {"trials": _trials(), "saves_returned": len(returned), **{
        f"{k}s_checked": v for k, v in kinds.items()}, "failures": 0})
