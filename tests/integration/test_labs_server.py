"""A real `labkit serve`: a lab run over HTTP, then `kill -9` mid-run; and `labkit run`.

After the kill the database is checked like a teacher would find it the next morning: the
steps the page had already shown as passed are there, nothing is half written, SQLite's
integrity check is ok, and the next start marks the cut-off run as interrupted.
"""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import signal
import subprocess
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from labkit.store import Store
from tests.helpers import LABKIT, REPO, labkit_env, start_server


class Browser:
    """Just enough of a browser: cookies, the CSRF header, forms and JSON."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        html = self.get("/")[1]
        self.token = re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)

    def _open(self, req: urllib.request.Request) -> tuple[int, str]:
        try:
            with self.opener.open(req, timeout=30) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def get(self, path: str) -> tuple[int, str]:
        return self._open(urllib.request.Request(self.base + path))

    def form(self, path: str, **fields: str) -> tuple[int, str]:
        req = urllib.request.Request(self.base + path, data=urllib.parse.urlencode(fields).encode(),
                                     headers={"X-CSRFToken": self.token})
        return self._open(req)

    def json(self, path: str, body: Any = None) -> tuple[int, Any]:
        req = urllib.request.Request(
            self.base + path, data=None if body is None else json.dumps(body).encode(),
            headers={"X-CSRFToken": self.token, "Content-Type": "application/json",
                     "Accept": "application/json"})
        status, text = self._open(req)
        return status, json.loads(text)


@pytest.fixture
def kit_data(tmp_path: Path, model_store: Any) -> Path:
    data = tmp_path / "kit" / "data"
    data.mkdir(parents=True)
    (data / "models").symlink_to(model_store.models_dir, target_is_directory=True)
    return data


@pytest.mark.slow
def test_kill_9_during_a_lab_run_keeps_every_committed_step(kit_data: Path) -> None:
    server = start_server(kit_data)
    try:
        b = Browser(server.url)
        assert b.form("/teacher/setup", pin="123456", confirm="123456")[0] == 200
        b.form("/teacher/classes", name="一班")
        b.form("/teacher/classes/1/students", name="王芳")
        b.form("/teacher/logout")
        b.form("/student/classes/1/students/1", next="/")
        status, started = b.json("/api/labs/face_led/start", {})
        assert status == 200, started
        run_id = started["run_id"]
        passed: list[str] = []
        deadline = time.monotonic() + 40
        while len(passed) < 2 and time.monotonic() < deadline:
            time.sleep(0.3)
            passed = b.json(f"/api/labs/runs/{run_id}")[1]["steps_passed"]
        assert len(passed) >= 2, passed
        os.kill(server.proc.pid, signal.SIGKILL)  # mid-run: the lab is still going
        server.proc.wait(timeout=10)
    finally:
        server.stop()
    store = Store(kit_data)
    try:
        assert store.db.integrity_check() == "ok"
        run = store.runs.get(run_id)
        assert run.status == "running"  # nobody closed it: the process died
        assert set(passed) <= {s.step_id for s in run.steps}
        assert all(s.check_id and s.passed_at >= run.started_at for s in run.steps)
        assert store.db.one("SELECT COUNT(*) AS n FROM reflections")["n"] == 0
    finally:
        store.close()
    # the next start of the kit marks the run interrupted (kept, with its steps)
    server = start_server(kit_data)
    try:
        b = Browser(server.url)
        # the teacher sees the child's kept run (a fresh name pick opens no earlier work)
        b.form("/teacher/login", pin="123456")
        page = b.get("/portfolio/classes/1/students/1")[1]
        assert f'id="run-{run_id}"' in page
    finally:
        server.stop()
    store = Store(kit_data)
    try:
        run = store.runs.get(run_id)
        assert run.status == "interrupted"
        assert set(passed) <= {s.step_id for s in run.steps}
    finally:
        store.close()


def test_labkit_run_unknown_lab_is_one_line_exit_2(tmp_path: Path) -> None:
    r = subprocess.run(LABKIT + ["run", "no_such_lab"], capture_output=True, text=True,
                       env=labkit_env(tmp_path / "data", LABKIT_LANG="en"), cwd=REPO, timeout=60)
    assert r.returncode == 2
    assert r.stderr.strip().splitlines()[-1].startswith("labkit: error: There is no lab")
    assert "face_led" in r.stderr


@pytest.mark.slow
def test_labkit_run_face_led_headless_passes_on_the_synthetic_camera(kit_data: Path) -> None:
    r = subprocess.run(LABKIT + ["run", "face_led", "--seconds", "45"], capture_output=True,
                       text=True, env=labkit_env(kit_data), cwd=REPO, timeout=90)
    out = r.stdout + r.stderr
    assert r.returncode == 0, out
    assert "face_led: 4/4 check(s) passed" in out
    # the lab's own steps (look, follow, dark, colours), each bound to its check
    for line in ("signal face = True", "signal face = False", "step follow passed",
                 "lab complete"):
        assert line in out, line


def test_labkit_run_demo_plays_the_scenario_on_a_simulated_clock(kit_data: Path) -> None:
    r = subprocess.run(LABKIT + ["run", "face_led", "--demo", "--seconds", "60"],
                       capture_output=True, text=True, env=labkit_env(kit_data), cwd=REPO,
                       timeout=90)
    out = r.stdout + r.stderr
    assert r.returncode == 0, out
    assert "face_led: 4/4 check(s) passed" in out and "step dark passed" in out


def test_labkit_run_demo_refuses_real_hardware(kit_data: Path) -> None:
    r = subprocess.run(LABKIT + ["run", "face_led", "--demo"], capture_output=True, text=True,
                       env=labkit_env(kit_data, LABKIT_HARDWARE="real"), cwd=REPO, timeout=90)
    assert r.returncode == 2 and "runs only in simulation" in r.stderr


def test_labkit_run_gives_up_after_its_time_limit(kit_data: Path) -> None:
    r = subprocess.run(LABKIT + ["run", "face_led", "--seconds", "2"], capture_output=True,
                       text=True, env=labkit_env(kit_data), cwd=REPO, timeout=60)
    assert r.returncode == 1 and "check(s) passed" in r.stdout
