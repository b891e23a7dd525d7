"""A kit without a battery clock: the wall clock jumps (back a year here) in the middle of a lab.

Durations and checks must not change: they are measured with a monotonic clock; wall-clock
times are only recorded. The lab runs in a child process whose `time.time` is replaced
*before* labkit is imported, so every reference to it (dataclass default factories, default
arguments) sees the jump, as with a real clock change.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
YEAR = 365 * 24 * 3600.0

SCRIPT = textwrap.dedent('''
    import json, sys, time
    real_time = time.time
    offset = [0.0]
    time.time = lambda: real_time() + offset[0]          # the wall clock, jumpable

    from pathlib import Path
    from labkit.config import Settings
    from labkit.projects.base import CheckResult, Project, check
    from labkit.projects.registry import Registry
    from labkit.projects.runner import LabRunner
    from labkit.runtime import KitRuntime
    from labkit.store import Store

    class HoldButton(Project):
        """Hold the button about half a second: a duration check."""
        id = "hold_button_test"
        band = "experience"
        hardware = ("button", "led")

        def setup(self, ctx):
            ctx.kit.led.source = ctx.kit.button

        def teardown(self, ctx):
            ctx.kit.led.source = None

        @check("held_half_a_second")
        def held(self, log):
            spans = [end - start for start, end in log.intervals("led")]
            ok = [s for s in spans if 0.3 <= s <= 5.0]
            return CheckResult.boolean(bool(ok), detail=json.dumps(spans))

    data = Path(sys.argv[1])
    settings = Settings(data_dir=data, hardware="sim", camera="synthetic",
                        microphone="simulated", host="127.0.0.1", threads=2)
    runtime = KitRuntime(settings)
    store = Store(data)
    kid = store.roster.add_student(store.roster.add_class("一班").id, "王芳")
    labs = Registry()
    labs.projects[HoldButton.id] = HoldButton
    runner = LabRunner(runtime, store, labs)
    lab = runner.start("hold_button_test", student_id=kid.id)
    time.sleep(0.3)
    runtime.bench.apply({"device": "button", "action": "press"})
    time.sleep(0.2)
    offset[0] = -float(sys.argv[2])                      # NTP / fake-hwclock moves the clock
    time.sleep(0.4)
    runtime.bench.apply({"device": "button", "action": "release"})
    deadline = time.monotonic() + 5
    while not lab.complete and time.monotonic() < deadline:
        time.sleep(0.05)
    spans = [end - start for start, end in lab.log.intervals("led")]
    complete = lab.complete
    run_id = lab.run_id
    runner.stop()
    run = store.runs.get(run_id)
    step_at = [s.passed_at for s in run.steps]
    print(json.dumps({"complete": complete, "status": run.status,
                      "run_seconds": run.ended_at - run.started_at,
                      "step_order_ok": all(run.started_at <= t <= run.ended_at for t in step_at),
                      "steps": [s.step_id for s in run.steps], "led_on_seconds": spans}))
    runner.close()
    store.close()
    runtime.close()
''')


def run_lab(tmp_path: Path, jump_seconds: float) -> dict:
    data = tmp_path / "data"
    data.mkdir(exist_ok=True)
    env = {**os.environ, "PYTHONPATH": str(REPO), "LABKIT_HARDWARE": "sim"}
    proc = subprocess.run([sys.executable, "-c", SCRIPT, str(data), str(jump_seconds)],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_without_a_jump_the_hold_check_passes(tmp_path: Path) -> None:
    result = run_lab(tmp_path, 0.0)
    assert result["complete"] and result["steps"] == ["held_half_a_second"]
    assert 0.4 < result["led_on_seconds"][0] < 2.0


@pytest.mark.parametrize("jump", [YEAR, -YEAR], ids=["back-a-year", "forward-a-year"])
def test_wall_clock_jumping_a_year_mid_run_leaves_the_check_unaffected(
        tmp_path: Path, jump: float) -> None:
    result = run_lab(tmp_path, jump)
    assert 0.4 < result["led_on_seconds"][0] < 2.0, result     # not -31536000 s
    assert result["complete"] and result["steps"] == ["held_half_a_second"]
    assert result["status"] == "stopped"
    assert 0.5 < result["run_seconds"] < 10.0, result           # the run's duration too
    assert result["step_order_ok"], result
