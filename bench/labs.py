"""`labkit run LAB --demo`: a lab's demo scenario on the injected simulated clock vs real time.

Both runs use the same kit runtime, the same real detectors on every frame and stop as soon as
every step is green; only the clock differs (simulated: the runner renders the next frame at
once; real: the camera delivers 15 frames per second). Also times the `labkit run face_led
--demo` command as a user starts it (process start and imports included).

    python -m bench labs            → bench/results/labs.json
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import write_result

LAB = "face_led"
LIMIT_S = 40.0


def _play(runtime: Any, labs: Any, clock: Any) -> dict[str, Any]:
    from labkit.projects.runner import LabRunner

    runner = LabRunner(runtime, None, labs, clock=clock)
    t0 = time.perf_counter()
    lab = runner.start(LAB, demo=True)
    try:
        while not lab.complete and time.perf_counter() - t0 < LIMIT_S:
            time.sleep(0.01)
        wall = time.perf_counter() - t0
        scenario_s = clock.now() - lab.demo_started
        return {"wall_s": round(wall, 3), "scenario_s": round(scenario_s, 2),
                "complete": lab.complete,
                "steps_passed": len(lab.passed), "steps": len(lab.steps)}
    finally:
        runner.stop()


def main() -> None:
    from labkit.config import Settings
    from labkit.projects.clock import RealClock, SimClock
    from labkit.projects.registry import discover
    from labkit.runtime import KitRuntime
    from tests.helpers import standard_model_store

    store = standard_model_store(threads=2)
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        data.mkdir()
        (data / "models").symlink_to(store.models_dir, target_is_directory=True)
        settings = Settings.from_env(data_dir=data, hardware="sim", camera="synthetic",
                                     microphone="simulated")
        runtime = KitRuntime(settings)
        labs = discover(data_dir=data)
        try:
            _play(runtime, labs, SimClock(time.time()))       # warm-up: models loaded once
            fast = _play(runtime, labs, SimClock(time.time()))
            real = _play(runtime, labs, RealClock())
        finally:
            runtime.close()
        env = {k: v for k, v in os.environ.items() if not k.startswith("LABKIT_")}
        env.update(LABKIT_DATA=str(data), LABKIT_HARDWARE="sim", LABKIT_CAMERA="synthetic",
                   LABKIT_MICROPHONE="simulated")
        t0 = time.perf_counter()
        cli = subprocess.run([sys.executable, "-m", "labkit.cli", "run", LAB, "--demo"],
                             capture_output=True, text=True, env=env, timeout=120)
        cli_s = time.perf_counter() - t0
    result = {
        "lab": LAB,
        "simulated_clock": fast, "real_clock": real,
        "speedup": round(real["wall_s"] / fast["wall_s"], 2) if fast["wall_s"] else None,
        "cli_demo": {"wall_s": round(cli_s, 2), "exit": cli.returncode,
                     "summary": (cli.stdout.strip().splitlines() or [""])[-1]},
        "note": "wall_s: start → every step green; the CLI figure includes process start",
    }
    write_result("labs", result)
    print(result)


if __name__ == "__main__":
    main()
