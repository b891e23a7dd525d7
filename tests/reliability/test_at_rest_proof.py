"""Proof of encryption at rest: a realistic class session through the web app, then every file
under the data dir is read and none holds a picture, a sound, a model or an archive in clear,
and none but the roster store holds a child's name or a saved program's source.

What is allowed, and why:
- `labkit.sqlite3` (+ `-wal`/`-shm`): the teacher's roster store holds the children's names by
  design (the teacher must see who is who); it must be owner-only (0600) and is the only file
  that may carry a name.
- `models/`: the kit's fetched public models (the same bytes on every kit, nothing about a
  child); a symlink to the session's model store here, and not walked.
- `outputs.lock`: which process holds the kit's outputs now (a pid, a holder kind and id,
  never a name — the name check above still reads it; labkit/drivers/outputlock.py).
- nothing else is in clear but the web sessions' `secret_key` and the kit's data key (random
  bytes, owner-only); /learn manifests are sealed too, since a child names a project after
  themselves (this session does).
- exports: the /learn model zip and the portfolio ZIP/CSV the teacher downloads are built in
  memory and streamed; the test proves none is left on the kit. The teacher's downloads are
  AES ZIPs under her export passphrase (`labkit.exportlock`; every byte of them is read in
  test_export_proof.py); the passphrase itself is sealed like every other file here.
"""

from __future__ import annotations

import io
import re
import stat
import time
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from labkit.atrest import SEALED
from labkit.exportlock import open_encrypted_zip
from labkit.drivers.outputlock import LOCK_FILE
from tests.helpers import wait_mic_played

CHILD = "欧阳明月"
OTHER_CHILD = "司马小雨"
CLASS = "三年级二班"
MAGIC = {"JPEG": b"\xff\xd8\xff", "PNG": b"\x89PNG\r\n\x1a\n", "WAV": b"RIFF",
         "WAVE": b"WAVEfmt", "zip": b"PK\x03\x04", "numpy": b"\x93NUMPY"}
# a Fernet token is urlsafe base64: nothing in clear can hide inside one
TOKEN = re.compile(rb"[A-Za-z0-9_=-]+\Z")
ROSTER_FILES = ("labkit.sqlite3", "labkit.sqlite3-wal", "labkit.sqlite3-shm")
KEYS = ("secret_key", "portfolio.key")
EXPORT_PASSPHRASE = "class export 2026"
# a saved code-lab program: its text (a child writes their name in it) must never be in clear
PROGRAM_LINE = "led_follows_my_face_by_oyang = True"
PROGRAM = f"# {CHILD}的程序\n{PROGRAM_LINE}\nfrom gpiozero import LED\nLED(17).on()\n"


@pytest.fixture
def data_dir(tmp_path: Path, model_store: Any) -> Path:
    """A kit data dir whose models/ is the session's store (the image embedder is there)."""
    data = tmp_path / "data"
    data.mkdir(exist_ok=True)
    (data / "models").symlink_to(model_store.models_dir, target_is_directory=True)
    return data


def _client(app: Any) -> Any:
    import re

    client = app.test_client()
    html = client.get("/").get_data(as_text=True)
    client.environ_base["HTTP_X_CSRFTOKEN"] = re.search(
        r'name="csrf-token" content="([^"]+)"', html).group(1)
    return client


def _wait_trained(client: Any, pid: str, timeout: float = 400) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.get(f"/api/learn/projects/{pid}/train").get_json()["job"]
        if job and job["state"] != "running":
            return job
        time.sleep(0.1)
    raise AssertionError("training did not finish")


def _show_face(runtime: Any, face: bool) -> None:
    runtime.camera.source.set_scene(face=face, shapes=False, face_walks=False)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        frame = runtime.camera.read()
        if frame is not None:
            skin = (np.abs(frame.image.astype(int) - (140, 170, 220)).sum(2) < 30).sum()
            if (skin > 1000) == face:
                return
        time.sleep(0.05)
    raise AssertionError(f"the synthetic camera did not show face={face}")


def _session(app: Any, runtime: Any) -> dict[str, Any]:
    """A teacher sets up a class; a child records, trains, keeps and exports."""
    from labkit.drivers.wav import wav_bytes
    from labkit.store import Store
    from tests.conftest import TEST_PIN

    teacher = _client(app)
    assert teacher.post("/teacher/setup", data={"pin": TEST_PIN, "confirm": TEST_PIN}
                        ).status_code == 302
    roster = Store.for_runtime(runtime).roster
    school_class = roster.add_class(CLASS)
    kid = roster.add_student(school_class.id, CHILD)
    roster.add_student(school_class.id, OTHER_CHILD)

    student = _client(app)
    assert student.post(f"/student/classes/{school_class.id}/students/{kid.id}",
                        data={"next": "/"}).status_code == 302
    # a project named after the child, as children do
    image = student.post("/api/learn/projects", json={
        "name": f"{CHILD}的分类器", "kind": "image", "classes": ["有脸", "没有脸"]}).get_json()
    for cls, face in zip(image["classes"], (True, False), strict=True):
        _show_face(runtime, face)
        for _ in range(6):
            r = student.post(f"/api/learn/projects/{image['id']}/classes/{cls['id']}/capture",
                             json={})
            assert r.status_code == 200, r.get_json()
            time.sleep(0.07)
    assert student.post(f"/api/learn/projects/{image['id']}/train", json={}).status_code == 202
    job = _wait_trained(student, image["id"])
    assert job["state"] == "done", job

    sound = student.post("/api/learn/projects", json={
        "name": "拍手", "kind": "sound", "classes": ["拍手", "口哨"]}).get_json()
    t = np.arange(16000) / 16000
    runtime.microphone.inject((8000 * np.sin(2 * np.pi * 880 * t)).astype(np.int16))
    wait_mic_played(runtime.microphone)
    cid = sound["classes"][0]["id"]
    r = student.post(f"/api/learn/projects/{sound['id']}/classes/{cid}/capture",
                     json={"seconds": 1.0})
    assert r.status_code == 200, r.get_json()
    tone = (3000 * np.sign(np.sin(2 * np.pi * 300 * t))).astype(np.int16)
    r = student.post(f"/api/learn/projects/{sound['id']}/classes/{cid}/upload",
                     data={"files": [(io.BytesIO(wav_bytes(tone)), "我的声音.wav")]},
                     content_type="multipart/form-data")
    assert r.status_code == 200, r.get_json()

    # a portfolio picture from a lab run, and the trained model kept in the portfolio
    run = student.post("/api/labs/face_led/start", json={}).get_json()
    assert student.post(f"/api/labs/runs/{run['run_id']}/snapshot", json={}).status_code == 200
    assert student.post(f"/api/learn/projects/{image['id']}/portfolio", json={}
                        ).status_code == 200

    # a program saved from the code page, with blocks
    saved = student.post("/api/code/programs", json={
        "name": f"{CHILD}的程序", "source": PROGRAM,
        "blocks": {"blocks": {"blocks": [{"type": "labkit_led_on", "id": PROGRAM_LINE}]}}})
    assert saved.status_code == 200, saved.get_json()

    # exports: the model zip to the student, the portfolio ZIP and CSV to the teacher
    exported = student.get(f"/api/learn/projects/{image['id']}/export")
    assert exported.status_code == 200 and zipfile.is_zipfile(io.BytesIO(exported.data))
    assert teacher.post("/teacher/exports/passphrase", data={
        "passphrase": EXPORT_PASSPHRASE, "confirm": EXPORT_PASSPHRASE}).status_code == 302
    class_zip = teacher.get(f"/portfolio/classes/{school_class.id}/export.zip")
    assert class_zip.status_code == 200
    exported_files = open_encrypted_zip(class_zip.data, EXPORT_PASSPHRASE)
    pictures = [n for n in exported_files if n.endswith(".jpg")]
    assert pictures and exported_files[pictures[0]].startswith(MAGIC["JPEG"])  # her copy
    class_csv = teacher.get(f"/portfolio/classes/{school_class.id}/export.csv")
    csv_files = open_encrypted_zip(class_csv.data, EXPORT_PASSPHRASE)
    assert CHILD in csv_files["portfolio.csv"].decode("utf-8-sig")
    from labkit.learn.model import read_graph

    project = runtime.services["learn"].projects.get(image["id"])
    graph = read_graph(project)
    return {"image": image["id"], "sound": sound["id"],
            "clear": {"export": exported.data,
                      "class export": b"".join(exported_files.values()),
                      "trained model": graph}}


# slow: a whole session, with a real training child (its imports alone take 10-60 s on a
# loaded 2-core machine)
@pytest.mark.slow
@pytest.mark.timeout(900)
def test_after_a_class_session_no_file_holds_a_picture_sound_model_or_name_in_clear(
        app: Any, runtime: Any, data_dir: Path) -> None:
    done = _session(app, runtime)
    assert runtime.services["learn"]._features.wait_idle(done["image"], 60)
    # pieces of what must never be on the card in clear: the exports and the trained graph
    pieces = {what: [blob[i:i + 64] for i in range(64, len(blob) - 64, len(blob) // 8)]
              for what, blob in done["clear"].items()}
    names = [n.encode("utf-8") for n in (CHILD, OTHER_CHILD)]
    seen: dict[str, int] = {"sealed": 0, "roster": 0, "keys": 0}
    problems: list[str] = []
    for path in sorted(data_dir.rglob("*")):
        rel = path.relative_to(data_dir)
        if rel.parts[0] == "models" or not path.is_file() or path.is_symlink():
            continue
        data = path.read_bytes()
        if data.startswith(SEALED):
            if not TOKEN.match(data[len(SEALED):]):
                problems.append(f"{rel}: clear bytes after the sealed marker")
            seen["sealed"] += 1
            continue
        for what, magic in MAGIC.items():
            if magic in data:
                problems.append(f"{rel}: {what} bytes in clear")
        for what, chunks in pieces.items():
            if any(chunk in data for chunk in chunks):
                problems.append(f"{rel}: the {what} in clear")
        if PROGRAM_LINE.encode() in data or b"labkit_led_on" in data:
            problems.append(f"{rel}: a saved program's source or blocks in clear")
        if path.name in ROSTER_FILES:     # the roster store: names allowed, owner-only
            seen["roster"] += 1
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, rel
            continue
        for name in names:
            if name in data:
                problems.append(f"{rel}: a child's name in clear")
        if path.name == LOCK_FILE and len(rel.parts) == 1:
            continue          # what holds the outputs now: a pid, a kind and an id, no name
        if path.name in KEYS and len(rel.parts) == 1:
            seen["keys"] += 1
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, rel
        else:
            problems.append(f"{rel}: a file in clear that should be sealed")
    assert not problems, problems
    # the walk saw what the session made: 12 pictures and their features, 2 sounds, the
    # manifests, the model, the portfolio photo and model card, the saved program
    assert seen["sealed"] >= 12 + 12 + 2 + 2 + 4 + 3 + 3 + 1, seen
    programs = list(data_dir.glob("portfolio/*/programs/*.json"))
    assert len(programs) == 1 and programs[0].read_bytes().startswith(SEALED), programs
    assert seen["roster"] >= 1 and seen["keys"] == 2, seen
    roster = b"".join(p.read_bytes() for p in (data_dir / n for n in ROSTER_FILES)
                      if p.exists())
    assert CHILD.encode() in roster          # the walk did see where the names are
