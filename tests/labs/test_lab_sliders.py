"""Sliders on the lab page (labkit/projects/parts.py): the colour lab's thresholds and the
robustness lab's picture changes reach the running lab's detectors; bad moves are a 400 that
change nothing; another student's run is refused.

The page itself (a slider moved in Chromium) is tests/web/test_lab_sliders_page.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import numpy as np
import pytest

from labkit.drivers import scenes
from labkit.projects.runner import LabRunner
from labkit.vision.colour import ColourTracker
from tests.helpers import wait_until


def test_colour_thresholds_change_what_is_found() -> None:
    picture = scenes.render("balls", {"colours": ["red", "green"]}, 0.0)
    red = ColourTracker(colour="red", start=False)
    try:
        assert red.detect(picture).blobs
        before = red.thresholds()
        red.tune(saturation=250)                       # the red ball is not that strong
        assert not red.detect(picture).blobs
        red.tune(saturation=before["saturation"], hue=60)   # a green band now
        found = red.detect(picture)      # the green ball (and the greenish floor of the room)
        assert any(abs(b.cx - 480) < 5 and b.box.w < 100 for b in found.blobs)
        assert not any(abs(b.cx - 160) < 5 and b.box.w < 100 for b in found.blobs)
        red.tune(hue=before["hue"], min_area=0.05)     # the ball is smaller than that
        assert not red.detect(picture).blobs
        with pytest.raises(ValueError):
            red.tune(hue=200)
    finally:
        red.close()


def _wait(predicate: Callable[[], bool], timeout: float = 15.0) -> bool:
    return wait_until(predicate, timeout)


def _start(client: Any, runtime: Any, lab: str, scene: tuple[str, dict[str, Any]]) -> int:
    camera = runtime.camera
    camera.play(lambda t: scenes.render(scene[0], scene[1], t))
    if getattr(camera, "_thread", None) is None:
        camera.start()
    r = client.post(f"/api/labs/{lab}/start", json={})
    assert r.status_code == 200, r.get_data(as_text=True)
    return int(r.get_json()["run_id"])


def _signal(runtime: Any, name: str) -> Any:
    lab = LabRunner.for_runtime(runtime).active
    entry = lab.log.last(name) if lab is not None else None
    return None if entry is None else entry.value


def test_colour_sliders_through_the_api(student_client: Any, runtime: Any) -> None:
    run_id = _start(student_client, runtime, "colour_tracking",
                    ("balls", {"colours": ["red", "green", "blue"]}))
    url = f"/api/labs/runs/{run_id}/settings"
    try:
        assert _wait(lambda: _signal(runtime, "seen") is True)
        got = student_client.get(url).get_json()["settings"]["red"]
        assert set(got) == {"hue", "saturation", "min_area"} and got["min_area"] == 0.002
        for body in ({"detector": "red", "setting": "min_area", "value": "lots"},
                     {"detector": "red", "setting": "min_area", "value": 5},
                     {"detector": "red", "setting": "min_area", "value": True},
                     {"detector": "red", "setting": "blur", "value": 0.1},     # not this lab's
                     {"detector": "blue", "setting": "hue", "value": 10},
                     {"detector": "red", "value": 0.01}):
            r = student_client.post(url, json=body)
            assert r.status_code == 400, body
            assert r.get_json()["error"]["code"] == "bad_input" and r.get_json()["error"]["message"]
        assert student_client.get(url).get_json()["settings"]["red"] == got   # nothing changed
        r = student_client.post(url, json={"detector": "red", "setting": "min_area", "value": 0.05})
        assert r.status_code == 200 and r.get_json()["value"] == 0.05
        assert _wait(lambda: _signal(runtime, "seen") is False)   # the ball is too small now
        lab = LabRunner.for_runtime(runtime).active
        assert [e.value["value"] for e in lab.log.entries("setting")] == [0.05]
        # someone else's run: refused, nothing moved
        r = student_client.post(f"/api/labs/runs/{run_id + 7}/settings",
                                json={"detector": "red", "setting": "min_area", "value": 0.0})
        assert 400 <= r.status_code < 500
    finally:
        student_client.post(f"/api/labs/runs/{run_id}/stop", json={})
        runtime.camera.play(None)


def test_picture_sliders_change_the_camera_picture_until_the_lab_ends(
        student_client: Any, runtime: Any, model_store: Any, data_dir: Path) -> None:
    (data_dir / "models").symlink_to(model_store.models_dir, target_is_directory=True)
    run_id = _start(student_client, runtime, "robustness", ("face", {"sway": 0.0}))
    url = f"/api/labs/runs/{run_id}/settings"
    camera = runtime.camera
    try:
        assert _wait(lambda: _signal(runtime, "face") is True)
        r = student_client.post(url, json={"detector": "faces", "setting": "occlude",
                                           "value": 0.8})
        assert r.status_code == 200, r.get_data(as_text=True)
        assert r.get_json()["settings"]["faces"]["occlude"] == 0.8
        assert camera.filter is not None
        assert _wait(lambda: _signal(runtime, "face") is False)
        left = camera.read().image[:, :200].astype(np.int16)
        assert float(np.abs(left - left.mean(axis=(0, 1))).max()) < 3     # covered: flat
        r = student_client.post(url, json={"detector": "faces", "setting": "occlude",
                                           "value": 0})
        assert r.status_code == 200 and camera.filter is None
        assert _wait(lambda: _signal(runtime, "face") is True)
        student_client.post(url, json={"detector": "faces", "setting": "dark", "value": 0.5})
        assert camera.filter is not None
    finally:
        student_client.post(f"/api/labs/runs/{run_id}/stop", json={})
        camera.play(None)
    assert camera.filter is None       # the next lab sees the picture as it is
