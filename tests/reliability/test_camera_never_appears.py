"""A camera that never appears: every page that shows the camera says so plainly, actions that
need a picture answer with a clear error, and labs that do not need the camera still run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.reliability.figures import record

CAMERA_PAGES = ("/", "/labs/face_led", "/vision/face", "/vision/colour")


def test_a_camera_that_never_appears_is_named_and_other_labs_still_work(
        settings: Any, tmp_path: Path) -> None:
    from labkit.runtime import KitRuntime
    from labkit.store import Store
    from labkit.web import create_app

    s = settings.with_(camera=str(tmp_path / "usb" / "camera.png"))   # never plugged in
    rt = KitRuntime(s)
    try:
        app = create_app(s, rt)
        app.config.update(TESTING=True, WTF_CSRF_ENABLED=False)
        client = app.test_client()
        roster = Store.for_runtime(rt).roster
        kid = roster.add_student(roster.add_class("一班").id, "王芳")
        assert client.post(f"/student/classes/{kid.class_id}/students/{kid.id}"
                           ).status_code == 302
        assert not rt.camera.connected
        for url in CAMERA_PAGES:
            r = client.get(url)
            assert r.status_code == 200, url
            html = r.get_data(as_text=True)
            assert 'id="camera-missing"' in html and "没有连接摄像头" in html, url
        health = client.get("/healthz")
        assert health.get_json()["camera"]["connected"] is False

        # /learn: an image project says so on its page, and capturing answers clearly
        p = client.post("/api/learn/projects", json={"name": "水果", "kind": "image",
                                                      "classes": ["苹果", "香蕉"]}).get_json()
        assert 'id="camera-missing"' in client.get(f"/learn/{p['id']}").get_data(as_text=True)
        r = client.post(f"/api/learn/projects/{p['id']}/classes/{p['classes'][0]['id']}"
                        "/capture", json={})
        assert r.status_code in (400, 409, 503) and r.get_json()["error"]["code"] == "no_camera"
        assert r.get_json()["error"]["message"]
        assert p["id"] and client.get(f"/api/learn/projects/{p['id']}").get_json()["total"] == 0

        # labs that need no camera: their pages do not warn about it, and they run
        for lesson in ("plant_corner", "clap_lamp"):
            html = client.get(f"/labs/{lesson}").get_data(as_text=True)
            assert 'id="camera-missing"' not in html, lesson
        run = client.post("/api/labs/plant_corner/start", json={})
        assert run.status_code == 200, run.get_json()
        run_id = run.get_json()["run_id"]
        # a photo cannot be kept without a camera: a clear answer, nothing saved
        snap = client.post(f"/api/labs/runs/{run_id}/snapshot", json={})
        assert snap.status_code >= 400 and snap.get_json()["error"]["message"]
        assert client.post(f"/api/labs/runs/{run_id}/stop", json={}).status_code == 200
        sound = client.post("/api/learn/projects", json={"name": "声音", "kind": "sound",
                                                          "classes": ["拍手", "口哨"]})
        assert sound.status_code in (200, 201)
        assert 'id="camera-missing"' not in client.get(
            f"/learn/{sound.get_json()['id']}").get_data(as_text=True)
        assert client.get("/api/audio/state").get_json()["microphone"]["connected"] is True
        rt.kit.led.on()
        assert rt.kit.led.is_lit
        assert not list((s.data_dir / "portfolio").rglob("*.jpg"))
        record("camera_never_appears", {"faults_injected": 1, "kit_started": True,
                                        "pages_checked": len(CAMERA_PAGES) + 1,
                                        "labs_run_without_camera": 1})
    finally:
        rt.close()
