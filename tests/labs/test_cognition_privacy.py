"""The privacy lab never writes a face it can find.

Its demo keeps two pictures (one face, then two) as a student pressing "Keep this picture"
would. Every file the run wrote is read back — kept pictures decrypted through the portfolio
(the store's artefact API, and the student's own portfolio download route) — and the face
detector runs on every picture in it, at the live threshold and at the more sensitive one the
kit checks with: no face. The same holds for the page's button, and a picture in which a
face survives covering is refused rather than kept.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from labkit.drivers import scenes
from labkit.errors import LabkitError
from labkit.projects import pictures
from labkit.projects.clock import SimClock
from labkit.projects.discovery import PACKAGE_LABS
from labkit.projects.registry import discover
from labkit.projects.runner import LabRunner
from labkit.vision.faces import FaceDetector

LABS = discover([(PACKAGE_LABS, "package")])


def _files(root: Path) -> dict[str, tuple[int, int]]:
    out = {}
    for path in root.rglob("*"):
        if path.is_symlink() or not path.is_file():
            continue
        st = path.stat()
        out[str(path.relative_to(root))] = (st.st_size, st.st_mtime_ns)
    return out


def _faces_in(data: bytes, model_store: Any) -> int:
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    assert image is not None, "a kept file that is not a picture"
    found = 0
    for score in (0.55, pictures.VERIFY_SCORE):
        det = FaceDetector(store=model_store, min_score=score, start=False)
        try:
            found = max(found, len(det.detect(image).faces))
        finally:
            det.close()
    return found


@pytest.fixture
def linked(data_dir: Path, model_store: Any) -> Path:
    (data_dir / "models").symlink_to(model_store.models_dir, target_is_directory=True)
    return data_dir


def test_the_scenes_have_faces_to_hide(model_store: Any) -> None:
    """Without covering, the demo's pictures do show faces (so 0 below means something)."""
    for kind, params, n in (("face", {}, 1), ("faces", {"n": 2}, 2)):
        ok, buf = cv2.imencode(".jpg", scenes.render(kind, params, 0.0))
        assert ok and _faces_in(buf.tobytes(), model_store) >= n


def test_every_file_the_lab_wrote_has_no_face(linked: Path, runtime: Any, store: Any,
                                             model_store: Any) -> None:
    before = _files(linked)
    kid = store.roster.add_student(store.roster.add_class("一班").id, "李明")
    runner = LabRunner(runtime, store, LABS, clock=SimClock(1_000_000.0))
    lab = runner.start("privacy", student_id=kid.id, demo=True)
    try:
        deadline = time.monotonic() + 120
        while not lab.demo_done and time.monotonic() < deadline:
            time.sleep(0.05)
        assert lab.demo_done and lab.complete, lab.snapshot()["checks"]
        kept = [e.value for e in lab.log.entries("kept")]
    finally:
        runner.stop()
    assert [k["faces_before"] for k in kept] == [1, 2]
    assert all(k["faces_after"] == 0 and k["covered"] >= k["faces_before"] for k in kept)
    written = [p for p, stamp in _files(linked).items() if before.get(p) != stamp]
    run = store.runs.get(lab.run_id)
    samples = [a for a in run.artefacts if a.kind == "sample"]
    assert len(samples) == 2
    by_path = {str(store.artefacts.path(a).relative_to(linked)): a for a in samples}
    assert set(by_path) <= set(written)
    for rel in written:
        raw = (linked / rel).read_bytes()
        if rel in by_path:
            data = store.artefacts.read(by_path[rel])       # decrypted in memory only
            assert raw[:3] != data[:3], f"{rel} is not encrypted at rest"
            assert _faces_in(data, model_store) == 0, rel
        elif raw:   # the database, its journal, the outputs lock: no picture in them
            assert cv2.imdecode(np.frombuffer(raw, np.uint8), cv2.IMREAD_COLOR) is None, rel
            assert b"\xff\xd8\xff" not in raw, f"{rel} holds a JPEG"


def test_the_keep_button_blurs_before_saving(student_client: Any, runtime: Any,
                                             model_store: Any, data_dir: Path) -> None:
    (data_dir / "models").symlink_to(model_store.models_dir, target_is_directory=True)
    camera = runtime.camera
    camera.play(lambda t: scenes.render("faces", {"n": 2}, t))
    if getattr(camera, "_thread", None) is None:
        camera.start()
    r = student_client.post("/api/labs/privacy/start", json={})
    assert r.status_code == 200, r.get_data(as_text=True)
    run_id = r.get_json()["run_id"]
    first = camera.read().seq if camera.read() else 0
    assert camera.wait_for_frame(first, timeout=5) is not None
    try:
        r = student_client.post(f"/api/labs/runs/{run_id}/snapshot", json={})
        assert r.status_code == 200, r.get_data(as_text=True)
        body = r.get_json()
        assert body["covered"]["faces_before"] == 2 and body["covered"]["faces_after"] == 0
        kid = student_client.student
        r = student_client.get(f"/portfolio/classes/{kid.class_id}/students/{kid.id}"
                               f"/files/{body['id']}")
        assert r.status_code == 200 and r.mimetype == "image/jpeg"
        assert _faces_in(r.data, model_store) == 0
        # someone else's run is refused, and nothing is kept for them
        r = student_client.post(f"/api/labs/runs/{run_id + 99}/snapshot", json={})
        assert 400 <= r.status_code < 500 and "error" in r.get_json()
    finally:
        student_client.post(f"/api/labs/runs/{run_id}/stop", json={})
        camera.play(None)


def test_a_face_that_survives_covering_is_not_kept(monkeypatch: pytest.MonkeyPatch,
                                                  model_store: Any) -> None:
    class Stubborn:
        """A detector that still 'finds' a face in every picture."""

        def __init__(self, **kwargs: Any) -> None:
            pass

        def detect(self, image: Any) -> Any:
            from labkit.vision.faces import Face, FaceResult
            from labkit.vision.types import Box

            return FaceResult((Face(Box(10, 10, 50, 50), 0.9, ()),), 640, 480)

        def close(self) -> None:
            pass

    monkeypatch.setattr("labkit.vision.faces.FaceDetector", Stubborn)
    with pytest.raises(LabkitError) as err:
        pictures.protect(scenes.render("face", {}, 0.0), "blur", model_store)
    assert err.value.code == "face_left"
