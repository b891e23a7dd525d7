"""The vision blueprint's JSON API: bad input answers 4xx JSON, detectors stop when idle."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest


def test_pages_and_unknown_task(student_client: Any) -> None:
    assert student_client.get("/vision").status_code == 200
    assert student_client.get("/vision/face").status_code == 200
    assert student_client.get("/vision/nope").status_code == 404
    r = student_client.post("/api/vision/nope/watch")
    assert r.status_code == 404 and r.json["error"]["code"] == "not_found"


def test_watch_starts_and_reports(student_client: Any) -> None:
    r = student_client.post("/api/vision/colour/watch")
    assert r.status_code == 200 and r.json["running"] and r.json["topic"] == "vision.colour"


@pytest.mark.parametrize("body, words", [
    ({"colour": "ultraviolet"}, "ultraviolet"),
    ({"shape": "x"}, ""),
    ("not json", ""),
    ([1, 2], ""),
])
def test_bad_settings(student_client: Any, body: Any, words: str) -> None:
    if isinstance(body, str):
        r = student_client.post("/api/vision/colour/settings", data=body,
                             content_type="application/json")
    else:
        r = student_client.post("/api/vision/colour/settings", json=body)
    assert r.status_code == 400 and r.json["error"]["code"] == "bad_input"
    assert words in r.json["error"]["message"]


def test_settings_change_colour_and_exercise(student_client: Any, runtime: Any) -> None:
    assert student_client.post("/api/vision/colour/settings", json={"colour": "blue"}).json == {
        "colour": "blue"}
    r = student_client.post("/api/vision/pose/settings", json={"exercise": "jumping_jack"})
    assert r.json == {"exercise": "jumping_jack"}
    live = runtime.services["vision.live"]
    assert live.get("pose").attached["reps"].exercise.name == "jumping_jack"
    assert student_client.post("/api/vision/pose/settings", json={"exercise": "burpee"}
                            ).status_code == 400


def test_post_without_csrf_is_refused(client: Any) -> None:
    assert client.post("/api/vision/face/watch").status_code == 400


def test_pipeline_stage_images(student_client: Any, runtime: Any) -> None:
    runtime.camera.wait_for_frame()
    r = student_client.get("/vision/shapes/stage/edges.jpg")
    assert r.status_code == 200 and r.mimetype == "image/jpeg" and r.data[:2] == b"\xff\xd8"
    assert r.headers["Cache-Control"] == "no-store"
    assert student_client.get("/vision/shapes/stage/../secret.jpg").status_code == 404
    assert student_client.get("/vision/shapes/stage/x.jpg").status_code == 404


def test_idle_detectors_stop(student_client: Any, runtime: Any, monkeypatch: Any) -> None:
    import labkit.web.vision as web_vision

    monkeypatch.setattr(web_vision, "IDLE_SECONDS", 0.5)
    student_client.post("/api/vision/face/watch")
    det = runtime.services["vision.live"].get("face")
    assert det.running
    deadline = time.monotonic() + 8
    while det.running and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not det.running and not det.closed
    student_client.post("/api/vision/face/watch")   # a page asks again: it restarts
    assert det.running


def test_missing_models_is_a_clear_error(tmp_path: Path, monkeypatch: Any) -> None:
    """A kit without fetched models: the page gets a JSON error naming the fix."""
    from labkit.config import Settings
    from labkit.runtime import KitRuntime
    from labkit.web import create_app

    settings = Settings(data_dir=tmp_path / "empty", hardware="sim", camera="synthetic",
                        microphone="simulated", host="127.0.0.1", threads=2)
    rt = KitRuntime(settings)
    try:
        app = create_app(settings, rt)
        app.config.update(TESTING=True, WTF_CSRF_ENABLED=False)
        r = app.test_client().post("/api/vision/face/watch")
        assert 400 <= r.status_code < 600 and r.status_code != 500
        assert "labkit models fetch" in (r.json["error"]["message"] + r.json["error"].get(
            "fix", ""))
    finally:
        rt.close()
