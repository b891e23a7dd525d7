"""/learn through the real app: the sound project's background class, hand/pose projects that
refuse pictures with no hand/body, export with samples (optionally encrypted) and import that
restores the project, and the switchable synthetic scenes."""

from __future__ import annotations

import io
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from labkit.drivers.wav import wav_bytes
from tests.helpers import wait_mic_history


@pytest.fixture
def data_dir(tmp_path: Path, model_store: Any) -> Path:
    """A kit data dir whose models/ is the session's store (embedder, hand and pose models)."""
    data = tmp_path / "data"
    data.mkdir(exist_ok=True)
    (data / "models").symlink_to(model_store.models_dir, target_is_directory=True)
    return data


def create(client: Any, kind: str, classes: list[str], name: str = "我的项目") -> dict[str, Any]:
    r = client.post("/api/learn/projects", json={"name": name, "kind": kind, "classes": classes})
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def upload(client: Any, pid: str, cid: str, *items: tuple[bytes, str]) -> Any:
    return client.post(f"/api/learn/projects/{pid}/classes/{cid}/upload",
                       data={"files": [(io.BytesIO(d), n) for d, n in items]},
                       content_type="multipart/form-data")


def wait_for_frame(runtime: Any, test: Any, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        frame = runtime.camera.read()
        if frame is not None and test(frame.image):
            return
        time.sleep(0.05)
    raise AssertionError("the camera did not show the expected picture")


# ---- 1. the background class ----------------------------------------------------------------

def test_sound_project_has_a_background_class_and_refuses_silent_words(
        student_client: Any, runtime: Any) -> None:
    p = create(student_client, "sound", ["开灯", "关灯"])
    roles = [c["role"] for c in p["classes"]]
    assert roles == ["", "", "background"] and p["classes"][2]["name"] == "背景声"
    pid, word, bg = p["id"], p["classes"][0]["id"], p["classes"][2]["id"]
    # the simulated room is quiet: a word class refuses it, with the reason in Chinese
    wait_mic_history(runtime.microphone, 1.0)     # a second of room in the mic's history
    r = student_client.post(f"/api/learn/projects/{pid}/classes/{word}/capture",
                            json={"seconds": 1.0})
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "silent"
    assert "没有声音" in r.get_json()["error"]["message"]
    r = student_client.post(f"/api/learn/projects/{pid}/classes/{bg}/capture",
                            json={"seconds": 1.0})
    assert r.status_code == 200 and r.get_json()["count"] == 1
    r = upload(student_client, pid, word, (wav_bytes(np.zeros(8000, np.int16)), "q.wav"))
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "silent"
    summary = student_client.get(f"/api/learn/projects/{pid}").get_json()
    assert [c["count"] for c in summary["classes"]] == [0, 0, 1]
    r = student_client.delete(f"/api/learn/projects/{pid}/classes/{bg}")
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "background_class"
    html = student_client.get(f"/learn/{pid}").get_data(as_text=True)
    assert 'data-role="background"' in html and "按住录制环境声" in html


# ---- 2. hand and pose projects refuse pictures with no hand/body ---------------------------

def _jpeg(img: np.ndarray) -> bytes:
    import cv2

    return cv2.imencode(".jpg", img)[1].tobytes()


@pytest.mark.parametrize("kind, scene, params, code", [
    ("hand", "hand", {"gesture": "open"}, "no_hand"),
    ("pose", "person", {"arms": 10}, "no_body"),
])
def test_landmark_projects_refuse_pictures_without_a_hand_or_body(
        student_client: Any, runtime: Any, kind: str, scene: str, params: dict[str, Any],
        code: str, data_dir: Path) -> None:
    from labkit.drivers.scenes import render

    p = create(student_client, kind, ["一", "二"])
    pid, cid = p["id"], p["classes"][0]["id"]
    folder = data_dir / "learn" / pid / "classes" / cid
    empty = render("empty", {}, 0.0)
    runtime.camera.play(lambda t: empty)
    wait_for_frame(runtime, lambda img: np.array_equal(img, empty))
    r = student_client.post(f"/api/learn/projects/{pid}/classes/{cid}/capture", json={})
    assert r.status_code == 400 and r.get_json()["error"]["code"] == code
    assert "没有找到" in r.get_json()["error"]["message"]
    r = upload(student_client, pid, cid, (_jpeg(empty), "empty.jpg"))
    assert r.status_code == 400 and r.get_json()["error"]["code"] == code
    assert sorted(f.name for f in folder.iterdir()) == ["class.json"]        # nothing written
    shown = render(scene, params, 0.0)
    runtime.camera.play(lambda t: shown)
    wait_for_frame(runtime, lambda img: np.array_equal(img, shown))
    r = student_client.post(f"/api/learn/projects/{pid}/classes/{cid}/capture", json={})
    assert r.status_code == 200 and r.get_json()["found"] is True, r.get_json()
    r = upload(student_client, pid, cid, (_jpeg(shown), "ok.jpg"), (_jpeg(empty), "no.jpg"))
    body = r.get_json()
    assert r.status_code == 200 and len(body["added"]) == 1 and body["errors"][0]["code"] == code
    assert body["count"] == 2 and len(list(folder.glob("*.jpg"))) == 2
    runtime.camera.play(None)


# ---- 3 and 4. export with samples and a passphrase, import restores the project -------------

def _record(client: Any, runtime: Any, pid: str, cid: str, scene: str, params: dict[str, Any],
            n: int) -> None:
    from labkit.drivers.scenes import render

    shown = render(scene, params, 0.0)
    runtime.camera.play(lambda t: shown)
    wait_for_frame(runtime, lambda img: np.array_equal(img, shown))
    for i in range(n):
        r = client.post(f"/api/learn/projects/{pid}/classes/{cid}/capture",
                        json={"take": f"t{cid[-4:]}{i % 2}"})
        assert r.status_code == 200, r.get_json()


def _wait_export(client: Any, pid: str, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.get(f"/api/learn/projects/{pid}/export/status").get_json()["job"]
        if job["state"] != "running":
            return job
        time.sleep(0.05)
    raise AssertionError("the export did not finish")


@pytest.mark.slow   # trains with the embedder, vets the graph twice in a child process, scrypt
def test_export_with_samples_and_passphrase_then_import_restores_it(
        student_client: Any, runtime: Any, settings: Any) -> None:
    from urllib.parse import quote

    p = create(student_client, "image", ["红球", "蓝球"], name="球的分类器")
    pid, (red, blue) = p["id"], p["classes"]
    r = student_client.post(f"/api/learn/projects/{pid}/export", json={})
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "not_trained"
    _record(student_client, runtime, pid, red["id"], "balls", {"colours": ["red"]}, 4)
    _record(student_client, runtime, pid, blue["id"], "balls", {"colours": ["blue"]}, 4)
    runtime.camera.play(None)
    runtime.services["learn"].train_now(pid)
    r = student_client.post(f"/api/learn/projects/{pid}/export",
                            json={"samples": True, "passphrase": "短"})
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "bad_passphrase"
    r = student_client.post(f"/api/learn/projects/{pid}/export",
                            json={"samples": True, "passphrase": "一二三四五六七八"})
    assert r.status_code == 202 and r.get_json()["state"] == "running"
    job = _wait_export(student_client, pid)
    assert job["state"] == "done" and job["filename"] == "球的分类器.labkit-model.zip", job
    url = f"/api/learn/projects/{pid}/export/download?token={job['token']}"
    got = student_client.get(url)
    assert got.status_code == 200 and got.mimetype == "application/zip"
    assert quote("球的分类器.labkit-model.zip") in got.headers["Content-Disposition"]
    assert got.headers["Cache-Control"] == "private, no-store"
    assert student_client.get(url).status_code == 404             # handed over once
    data = got.data
    before = sorted(p["id"] for p in student_client.get("/api/learn/projects").get_json()[
        "projects"])

    def post_import(passphrase: str | None) -> Any:
        form: dict[str, Any] = {"file": (io.BytesIO(data), "球的分类器.labkit-model.zip")}
        if passphrase is not None:
            form["passphrase"] = passphrase
        return student_client.post("/api/learn/import", data=form,
                                   content_type="multipart/form-data")

    for passphrase, code in ((None, "passphrase_needed"), ("一二三四五六七九", "wrong_passphrase")):
        r = post_import(passphrase)
        assert r.status_code == 400 and r.get_json()["error"]["code"] == code
        after = sorted(p["id"] for p in student_client.get("/api/learn/projects").get_json()[
            "projects"])
        assert after == before
    r = post_import("一二三四五六七八")
    assert r.status_code == 201, r.get_json()
    new = r.get_json()
    assert new["id"] != pid and new["name"] == "球的分类器" and new["owner"] == student_client.student.id
    assert [(c["name"], c["count"]) for c in new["classes"]] == [("红球", 4), ("蓝球", 4)]
    assert new["model"]["imported"] is True
    assert student_client.get(f"/learn/{new['id']}").status_code == 200
    # the page offers the export and the snippet
    html = student_client.get(f"/learn/{pid}").get_data(as_text=True)
    assert "球的分类器.labkit-model.zip" in html and "ExportedModel" in html
    assert "可能有孩子的脸或声音" in html


def test_bad_imports_through_the_page(student_client: Any) -> None:
    cases = [(b"PK\x03\x04nope", 400, "bad_model"), (b"", 400, "bad_model")]
    for data, status, code in cases:
        r = student_client.post("/api/learn/import",
                                data={"file": (io.BytesIO(data), "x.labkit-model.zip")},
                                content_type="multipart/form-data")
        assert r.status_code == status and r.get_json()["error"]["code"] == code
    assert student_client.get("/api/learn/projects").get_json()["projects"] == []


# ---- 5. one list of command words -----------------------------------------------------------

def test_learn_and_audio_pages_suggest_the_same_command_words(client: Any) -> None:
    from labkit.audio_ai.vocabulary import words

    learn = client.get("/learn").get_data(as_text=True)
    audio = client.get("/audio").get_data(as_text=True)
    for page, link in ((learn, 'href="/audio"'), (audio, 'href="/learn"')):
        assert '<datalist id="command-words">' in page and link in page
        for w in words():
            assert f'<option value="{w}">' in page


# ---- 6. switchable synthetic scenes ---------------------------------------------------------

def test_a_student_switches_the_simulated_camera_scene(client: Any, student_client: Any,
                                                       runtime: Any, monkeypatch: Any) -> None:
    assert client.get("/api/camera/scene").get_json()["scene"] == "moving"
    r = client.post("/api/camera/scene", json={"scene": "red_ball"})
    assert r.status_code in (400, 401, 403)                        # a student picks it
    r = student_client.post("/api/camera/scene", json={"scene": "unicorn"})
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "bad_input"
    r = student_client.post("/api/camera/scene", json={"scene": "blue_ball"})
    assert r.status_code == 200 and runtime.camera.playing
    def blue_ball(img: np.ndarray) -> bool:                  # the blue disc fills the view
        b, r = img[..., 0].astype(int), img[..., 2].astype(int)
        return int(((b > 170) & (r < 70)).sum()) > 5000

    wait_for_frame(runtime, blue_ball)
    assert client.get("/api/camera/scene").get_json()["scene"] == "blue_ball"
    html = student_client.get("/vision/hands").get_data(as_text=True)
    assert 'id="scene-select"' in html and '<option value="blue_ball" selected>' in html
    assert "蓝色的球" in html
    p = create(student_client, "image", ["红", "蓝"])
    assert 'id="scene-select"' in student_client.get(f"/learn/{p['id']}").get_data(as_text=True)
    s = create(student_client, "sound", ["开灯"])
    assert 'id="scene-select"' not in student_client.get(f"/learn/{s['id']}").get_data(
        as_text=True)
    r = student_client.post("/api/camera/scene", json={"scene": "moving"})
    assert r.status_code == 200 and not runtime.camera.playing
    # a lab's demo on the camera is not taken over
    runtime.camera.play(lambda t: np.zeros((480, 640, 3), np.uint8))
    r = student_client.post("/api/camera/scene", json={"scene": "red_ball"})
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "busy"
    runtime.camera.play(None)
    # a real camera shows the room
    monkeypatch.setattr("labkit.web.scenes.is_synthetic", lambda camera: False)
    r = student_client.post("/api/camera/scene", json={"scene": "red_ball"})
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "real_hardware"
    assert 'id="scene-select"' not in student_client.get("/vision/hands").get_data(as_text=True)


@pytest.mark.browser
def test_browser_hand_project_with_switched_scenes(inproc_server: Any, page: Any,
                                                   runtime: Any) -> None:
    """On a laptop: pick the empty room, hold Record in a hand project — each picture is
    refused next to the button, nothing kept; pick an open hand — the samples are kept."""
    from labkit.store import Store
    from tests.helpers import pick_a_name

    pick_a_name(page, inproc_server.url, store=Store.for_runtime(runtime))
    page.goto(inproc_server.url + "/learn")
    page.fill("#new-name", "手势")
    page.check("input[name=kind][value=hand]")
    rows = page.locator("#class-rows .class-name")
    rows.nth(0).fill("张开")
    rows.nth(1).fill("握拳")
    page.click("#create-project")
    page.wait_for_url("**/learn/p*")
    card = page.locator(".class-card").nth(0)
    page.select_option("#scene-select", "empty")
    page.wait_for_function("document.getElementById('scene-select').dataset.shown === 'empty'")
    page.wait_for_timeout(300)
    card.locator(".record").hover()
    page.mouse.down()
    page.wait_for_selector(".class-card .capture-refused[data-code=no_hand]", timeout=20000)
    page.mouse.up()
    assert "没有找到手" in card.locator(".capture-refused").inner_text()
    assert card.locator(".count").inner_text() == "0"
    page.select_option("#scene-select", "hand_open")
    page.wait_for_function("document.getElementById('scene-select').dataset.shown === 'hand_open'")
    page.wait_for_timeout(600)
    card.locator(".record").hover()
    page.mouse.down()
    page.wait_for_function(
        "Number(document.querySelector('.class-card .count').textContent) >= 2", timeout=30000)
    page.mouse.up()
    page.wait_for_timeout(500)
    assert card.locator(".capture-refused").is_hidden()
    assert page.watch.external == [] and page.watch.page_errors == []
    # the refused pictures were 400 answers, which the browser logs; nothing else went wrong
    assert page.watch.console_errors and all("status of 400" in e
                                             for e in page.watch.console_errors)
