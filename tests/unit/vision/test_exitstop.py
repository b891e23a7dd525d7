"""Background threads are stopped before the interpreter finalises (labkit/exitstop.py)."""

from __future__ import annotations

import gc
import subprocess
import sys
from pathlib import Path

from labkit.exitstop import ExitStops
from tests.helpers import REPO, labkit_env


class _Owner:
    def __init__(self, name: str, log: list[str], fails: bool = False) -> None:
        self.name, self.log, self.fails = name, log, fails

    def stop(self) -> None:
        self.log.append(self.name)
        if self.fails:
            raise RuntimeError("cannot stop")


def test_owners_stop_newest_first_and_one_failure_does_not_stop_the_rest() -> None:
    log: list[str] = []
    camera, detector, broken = _Owner("camera", log), _Owner("detector", log), \
        _Owner("broken", log, fails=True)
    gone = _Owner("gone", log)
    stops = ExitStops()
    for owner in (camera, gone, detector, broken):
        stops.add(owner.stop)
    del gone
    gc.collect()

    assert stops.stop_all() == 2
    assert log == ["broken", "detector", "camera"]
    assert stops.stop_all() == 0          # each is stopped once


def test_registering_does_not_keep_an_owner_alive() -> None:
    owner = _Owner("x", [])
    stops = ExitStops()
    stops.add(owner.stop)
    assert len(stops) == 1
    del owner
    gc.collect()
    assert len(stops) == 0


# A student's program that runs off its last line with the camera and a detector still
# running. An atexit hook registered before labkit is imported runs after labkit's own (they
# run last-in first-out) and lists the kit's threads still alive at that moment.
PROGRAM = """\
import atexit, threading
def still_running():
    alive = [t.name for t in threading.enumerate() if t.name.startswith("labkit-") and t.is_alive()]
    print("ALIVE", ",".join(alive) or "-", flush=True)
atexit.register(still_running)
from labkit.drivers import Camera
from labkit.vision import FaceDetector
faces = FaceDetector(Camera())
assert faces.running
"""


def test_a_program_that_runs_off_its_end_stops_the_camera_and_detector_first(
        models_data_dir: Path) -> None:
    proc = subprocess.run([sys.executable, "-c", PROGRAM], env=labkit_env(models_data_dir),
                          cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "ALIVE -" in proc.stdout, proc.stdout
