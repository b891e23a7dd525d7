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
PIN = "24681357"


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


def test_the_page_installs_with_a_progress_bar(app: Any, settings: Any, inproc_server: Any,
                                               page: Any, tmp_path: Path) -> None:
    """In the browser: a refused pack's error is shown and the bar hidden; a trusted one
    fills the bar (its maximum is the pack's content bytes) and says it is installed."""
    good, good_pub = _pack(tmp_path, "good")
    _pack(tmp_path, "stranger")
    labpack.add_trusted_key(settings.data_dir, good_pub.read_text())
    app.config["LABKIT_PACK_SEARCH"] = [str(tmp_path / "media" / "*" / "*.labpack")]
    page.set_default_timeout(60_000)
    page.goto(inproc_server.url + "/teacher")
    page.fill("input[name=pin]", PIN)
    page.fill("input[name=confirm]", PIN)
    page.click("form[action='/teacher/setup'] button[type=submit]")
    page.wait_for_load_state()
    page.goto(inproc_server.url + "/teacher/packs")
    page.click("li:has-text('stranger-1.0.labpack') button.pack-install")
    page.wait_for_function("document.getElementById('pack-result').textContent.length > 0")
    assert "不受这台 AI 小盒子信任" in page.inner_text("#pack-result")   # read in Chinese
    assert page.is_hidden("#pack-progress")
    page.click("li:has-text('good-1.0.labpack') button.pack-install")
    page.wait_for_function("document.getElementById('pack-result').textContent.includes('good')")
    bar = page.evaluate("[document.getElementById('pack-progress').max,"
                        " document.getElementById('pack-progress').value]")
    content = sum(p.stat().st_size for p in (settings.data_dir / "packs" / "installed" / "good"
                                             / "1.0").rglob("*") if p.is_file()
                  and p.name not in ("labpack.json", "labpack.sig"))
    assert bar == [content, content]
    assert page.watch.external == [] and page.watch.page_errors == []
    assert page.watch.console_errors == []
