"""/teacher/packs: teacher only, lists packs found on USB drives, installs one by its index
(never by a path) as a job the page polls, refuses an untrusted one with a clear error and
nothing changed."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from labkit.packs import labpack, signing
from labkit.web.packs import INSTALL, install_jobs
from labkit.projects.discovery import PACKAGE_LABS

JSON = {"Accept": "application/json"}


def _pack(tmp_path: Path, name: str) -> tuple[Path, Path]:
    key = tmp_path / f"{name}.key"
    pub = signing.generate(key)
    (tmp_path / f"{name}.pub").write_text(signing.public_text(pub))
    src = tmp_path / f"src-{name}"
    shutil.copytree(PACKAGE_LABS / "experience" / "clap_lamp",
                    src / "labs" / "experience" / f"{name}_lamp")
    (src / labpack.SOURCE_FILE).write_text(json.dumps({"id": name, "version": "1.0"}))
    return labpack.build_pack(src, key, tmp_path / "media" / "usb"), tmp_path / f"{name}.pub"


def test_teacher_installs_a_pack_found_on_usb(app: Any, teacher_client: Any, client: Any,
                                              settings: Any, tmp_path: Path) -> None:
    good, good_pub = _pack(tmp_path, "good")
    _pack(tmp_path, "stranger")
    labpack.add_trusted_key(settings.data_dir, good_pub.read_text())
    app.config["LABKIT_PACK_SEARCH"] = [str(tmp_path / "media" / "*" / "*.labpack")]
    assert client.get("/teacher/packs/state").status_code in (302, 401, 403)
    r = teacher_client.get("/teacher/packs?lang=zh_CN")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert "good-1.0.labpack" in html and "资源包" in html and "<progress" in html
    found = teacher_client.get("/teacher/packs/state").get_json()["found"]
    by_name = {f["name"]: f["index"] for f in found}
    before = sorted(p.relative_to(settings.data_dir) for p in settings.data_dir.rglob("*"))
    assert teacher_client.get("/teacher/packs/install/status").get_json() == {"job": None}
    r = teacher_client.post("/teacher/packs/install",
                            json={"index": by_name["stranger-1.0.labpack"]}, headers=JSON)
    assert r.status_code == 202 and r.get_json()["job"]["state"] == "running"
    job = _finished(app, teacher_client)
    assert job["state"] == "error" and job["code"] == "untrusted_key" and job["message"]
    assert sorted(p.relative_to(settings.data_dir) for p in settings.data_dir.rglob("*")) == before
    r = teacher_client.post("/teacher/packs/install", json={"index": 99}, headers=JSON)
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "unknown_pack"
    r = teacher_client.post("/teacher/packs/install", json={"index": "/etc/passwd"}, headers=JSON)
    assert r.status_code == 400
    r = teacher_client.post("/teacher/packs/install", json={"index": by_name[good.name]},
                            headers=JSON)
    assert r.status_code == 202, r.get_data(as_text=True)
    job = _finished(app, teacher_client)
    assert job["state"] == "done", job
    assert job["installed"]["id"] == "good" and job["fraction"] == 1.0
    assert job["total"] > 0 and job["done"] == job["total"] and job["name"] == good.name
    installed = teacher_client.get("/teacher/packs/state").get_json()["installed"]
    assert [(p["id"], p["current"]) for p in installed] == [("good", "1.0")]
    assert client.get("/teacher/packs/install/status").status_code in (302, 401, 403)


def _finished(app: Any, teacher_client: Any) -> dict[str, Any]:
    """The install job once it has ended, as the page's poll reads it."""
    with app.app_context():
        assert install_jobs().wait(INSTALL, timeout=30) in ("done", "error")
    return teacher_client.get("/teacher/packs/install/status").get_json()["job"]
