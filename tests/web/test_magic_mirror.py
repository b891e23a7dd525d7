"""The magic mirror: the real selfie-segmentation model on the synthetic person, the in-memory
composite, and the routes that choose a background and keep a child's drawing.

The person scene is what the demo and the live kit in simulation show; the model must find the
drawn child (not some other region) for the mirror to mean anything, so the mask is compared
with the silhouette's own pixels.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from labkit.drivers.scenes import render
from labkit.vision.backgrounds import PICTURES, picture

WALL = np.array([200, 205, 210])       # the person scene's wall colour (scenes.draw_person)


@pytest.fixture
def segmenter(model_store: Any) -> Any:
    from labkit.vision.segmentation import Segmenter

    seg = Segmenter(store=model_store, start=False)
    yield seg
    seg.close()


def _silhouette(frame: np.ndarray) -> np.ndarray:
    return np.abs(frame.astype(int) - WALL).sum(axis=2) > 30


def test_the_model_segments_the_synthetic_person(segmenter: Any) -> None:
    frame = render("person", {}, 0.0)
    drawn = _silhouette(frame)
    mask = segmenter.detect(frame).binary()
    iou = (drawn & mask).sum() / (drawn | mask).sum()
    assert iou > 0.8, iou
    assert segmenter.detect(render("empty", {}, 0.0)).coverage < 0.01


def test_every_picture_is_drawn_at_the_asked_size() -> None:
    for name in PICTURES:
        img = picture(name, 320, 240)
        assert img.shape == (240, 320, 3) and img.dtype == np.uint8 and img.std() > 10
    with pytest.raises(ValueError, match="unknown picture"):
        picture("moon")


def test_the_mirror_keeps_the_child_and_swaps_the_room(runtime: Any, model_store: Any,
                                                       data_dir: Path) -> None:
    from labkit.web.mirror import Mirror

    (data_dir / "models").symlink_to(model_store.models_dir, target_is_directory=True)
    mirror = Mirror(runtime)
    frame = render("person", {}, 0.0)
    assert mirror.composite(frame) is frame                    # no picture chosen yet
    sub = runtime.bus.subscribe("mirror.replaced")
    try:
        sea = picture("sea", 640, 480)
        mirror.choose("sea", "builtin", sea)
        out = mirror.composite(frame)
        mirror.composite(frame)                                # announced once per picture
        mirror.choose("space", "builtin", picture("space", 640, 480))
        mirror.composite(frame)
        first, second = sub.get(timeout=5), sub.get(timeout=5)
        assert sub.get(timeout=0.2) is None
    finally:
        sub.close()
        mirror.close()
    assert (first.data["picture"], second.data["picture"]) == ("sea", "space")
    assert first.data["kind"] == "builtin" and first.data["coverage"] > 0.1
    drawn = _silhouette(frame)
    core = cv2.erode(drawn.astype(np.uint8), np.ones((15, 15), np.uint8)).astype(bool)
    room = ~cv2.dilate(drawn.astype(np.uint8), np.ones((41, 41), np.uint8)).astype(bool)
    assert np.abs(out[core].astype(int) - frame[core]).mean() < 12     # the child stays
    assert np.abs(out[room].astype(int) - sea[room]).mean() < 12       # the room is the sea


def _png(colour: tuple[int, int, int] = (30, 160, 240)) -> bytes:
    img = np.zeros((300, 400, 3), np.uint8)
    img[:] = colour
    cv2.circle(img, (200, 150), 80, (255, 255, 255), -1)
    ok, buf = cv2.imencode(".png", img)
    assert ok
    return buf.tobytes()


def test_choosing_and_saving_drawings(student_client: Any, app: Any, runtime: Any,
                                      model_store: Any, data_dir: Path) -> None:
    (data_dir / "models").symlink_to(model_store.models_dir, target_is_directory=True)
    r = student_client.post("/api/mirror/background", json={"picture": "moon"})
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "bad_input"
    assert student_client.post("/api/mirror/background", json={"picture": "sea"}).status_code == 200
    # a drawing needs a running magic_mirror run of this student
    r = student_client.post("/api/mirror/drawings", data={"file": (io.BytesIO(_png()), "d.png")})
    assert r.status_code == 400
    start = student_client.post("/api/labs/magic_mirror/start", json={})
    assert start.status_code == 200, start.get_json()
    run_id = start.get_json()["run_id"]
    try:
        r = student_client.post("/api/mirror/drawings", data={
            "run_id": str(run_id), "file": (io.BytesIO(b"not a picture"), "d.png")})
        assert r.status_code == 400 and r.get_json()["error"]["code"] == "bad_image"
        r = student_client.post("/api/mirror/drawings", data={"run_id": str(run_id)})
        assert r.status_code == 400 and r.get_json()["error"]["code"] == "bad_image"
        r = student_client.post("/api/mirror/drawings", data={
            "run_id": str(run_id), "file": (io.BytesIO(_png()), "my drawing.png")})
        assert r.status_code == 200, r.get_json()
        drawing = r.get_json()["drawing"]
        use = student_client.post("/api/mirror/background", json={"drawing": drawing})
        assert use.status_code == 200 and use.get_json() == {"picture": f"drawing-{drawing}",
                                                             "kind": "drawing"}
        # another child may not stand in front of it
        from labkit.store import Store

        roster = Store.for_runtime(runtime).roster
        other = roster.add_student(student_client.student.class_id, "别的同学")
        client = app.test_client()
        html = client.get("/").get_data(as_text=True)
        import re

        client.environ_base["HTTP_X_CSRFTOKEN"] = re.search(
            r'name="csrf-token" content="([^"]+)"', html).group(1)
        client.post(f"/student/classes/{other.class_id}/students/{other.id}", data={"next": "/"})
        r = client.post("/api/mirror/background", json={"drawing": drawing})
        assert r.status_code == 403 and r.get_json()["error"]["code"] == "forbidden"
    finally:
        student_client.post(f"/api/labs/runs/{run_id}/stop", json={})
    run = Store.for_runtime(runtime).runs.get(run_id)
    kept = [a for a in run.artefacts if a.kind == "sample"]
    assert len(kept) == 1 and kept[0].path.endswith(".jpg")       # re-encoded, one file
