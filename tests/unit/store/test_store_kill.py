"""SQLite survives `kill -9` mid-write: committed runs are all there, nothing is half written.

A child process writes runs as fast as it can — each run with its five step results and its
reflection in one transaction — and prints each commit. The parent kills it with SIGKILL while
it is writing, then opens the database: `PRAGMA integrity_check` is ok, every run that was
reported committed is there, and every run present has all of its rows (never 3 of 5 steps).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from labkit.store import Store
from tests.helpers import REPO

WRITER = r"""
import sys, time
from pathlib import Path
from labkit.store import Store
store = Store(Path(sys.argv[1]))
cls = store.roster.add_class("一班")
kid = store.roster.add_student(cls.id, "王芳")
print("ready", flush=True)
n = 0
while True:
    n += 1
    with store.db.transaction() as tx:
        cur = tx.execute("INSERT INTO runs (student_id, lesson_id, project_id, steps_total, "
                         "started_at, status) VALUES (?, 'face_led', 'face_led', 5, ?, "
                         "'running')", (kid.id, time.time()))
        run_id = cur.lastrowid
        for i in range(5):
            tx.execute("INSERT INTO step_results (run_id, step_id, check_id, passed_at, detail) "
                       "VALUES (?, ?, 'c', ?, ?)", (run_id, f"s{i}", time.time(), "x" * 2000))
        tx.execute("INSERT INTO reflections (run_id, question, answer, created_at) "
                   "VALUES (?, 'q', ?, ?)", (run_id, "答" * 500, time.time()))
    print(f"committed {run_id}", flush=True)
"""


def _kill_while_writing(data_dir: Path, after_commits: int) -> int:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(data_dir)], stdout=subprocess.PIPE,
                            text=True, env=env, cwd=str(REPO))
    last = 0
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + 60
        for line in proc.stdout:
            if line.startswith("committed"):
                last = int(line.split()[1])
                if last >= after_commits:
                    break
            assert time.monotonic() < deadline, "writer too slow"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        # lines already printed before the kill are commits too
        for line in proc.stdout:
            if line.startswith("committed"):
                last = int(line.split()[1])
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL
    return last


def test_kill_9_mid_write_loses_nothing_committed_and_leaves_nothing_half_written(
        data_dir: Path) -> None:
    for attempt, commits in enumerate((15, 40)):
        reported = _kill_while_writing(data_dir / f"kit{attempt}", commits)
        store = Store(data_dir / f"kit{attempt}")  # recovery from the WAL happens here
        try:
            assert store.db.integrity_check() == "ok"
            runs = [r["id"] for r in store.db.query("SELECT id FROM runs ORDER BY id")]
            assert len(runs) >= reported >= commits
            assert runs == list(range(1, len(runs) + 1))  # no gaps: whole transactions only
            for run_id in runs:
                steps = store.db.one("SELECT COUNT(*) AS n FROM step_results WHERE run_id = ?",
                                     (run_id,))["n"]
                refl = store.db.one("SELECT COUNT(*) AS n FROM reflections WHERE run_id = ?",
                                    (run_id,))["n"]
                assert (steps, refl) == (5, 1), f"run {run_id} is half written"
            # and the database is usable afterwards
            assert store.runs.interrupt_dangling() == len(runs)
            assert store.runs.get(runs[-1]).status == "interrupted"
        finally:
            store.close()
