"""The /pipeline page: check with the line, save to the student's own portfolio, run and stop
on the kit's runtime, and who may do what."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Callable

import pytest

from tests.helpers import REPO
from tests.security.web_helpers import student

EXAMPLES = REPO / "labkit" / "pipeline" / "examples"
FAN = (EXAMPLES / "button_fan.yaml").read_text(encoding="utf-8")


def signed_in(app: Any, runtime: Any, name: str) -> Any:
    """A student `name` of the kit's first class (made if none), signed in by picking it."""
    from labkit.store import Store

    roster = Store.for_runtime(runtime).roster
    classes = roster.classes()
    school_class = classes[0] if classes else roster.add_class("测试班")
    who = roster.add_student(school_class.id, name)
    client = student(app, who)
    client.student = who
    return client


def wait_for(test: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if test():
            return True
        time.sleep(0.05)
    return test()


def test_nobody_signed_in_is_sent_to_pick_a_name(client: Any, csrf_client: Any) -> None:
    page = client.get("/pipeline")
    assert page.status_code == 302 and "/student" in page.headers["Location"]
    for url in ("/api/pipeline/check", "/api/pipeline/run", "/api/pipeline/save"):
        r = csrf_client.post(url, json={"text": FAN})
        assert r.status_code == 401, url
        assert r.get_json()["error"]["code"] == "need_student"


def test_the_page_lists_the_blocks_and_check_names_the_line(student_client: Any) -> None:
    html = student_client.get("/pipeline").get_data(as_text=True)
    assert "流水线搭建" in html and "人脸检测" in html and "RGB 灯颜色" in html
    assert "<script>" not in html            # CSP: no inline script, data only
    ok = student_client.post("/api/pipeline/check", json={"text": FAN})
    assert ok.status_code == 200
    assert [b["block"] for b in ok.get_json()["blocks"]] == ["button", "toggle", "fan"]
    bad = student_client.post("/api/pipeline/check",
                              json={"text": FAN.replace("input: switch", "input: fan")})
    assert bad.status_code == 400
    error = bad.get_json()["error"]
    line = next(i for i, s in enumerate(FAN.splitlines(), 1) if "id: fan" in s)
    assert error["line"] == line and error["code"] == "bad_pipeline"
    assert error["message"].startswith(f"第 {line} 行：") and "环" in error["message"]


def test_a_saved_pipeline_is_the_students_and_the_teachers(app: Any, runtime: Any,
                                                           student_client: Any,
                                                           teacher_client: Any) -> None:
    saved = student_client.post("/api/pipeline/save", json={"text": FAN})
    assert saved.status_code == 200, saved.get_data(as_text=True)
    me = student_client.student.id
    mine = student_client.get("/api/pipeline/saved").get_json()["pipelines"]
    assert [p["name"] for p in mine] == ["button_fan"]
    opened = student_client.get(f"/api/pipeline/saved/{me}/button_fan").get_json()
    assert opened["text"] == FAN
    # kept sealed in the student's portfolio folder, like the rest of their work
    path = Path(runtime.settings.data_dir) / "portfolio" / str(me) / "pipelines" / \
        "button_fan.yaml"
    assert path.read_bytes().startswith(b"LKENC1")
    other = signed_in(app, runtime, "王芳")
    assert other.get(f"/api/pipeline/saved/{me}/button_fan").status_code == 404
    assert other.get("/api/pipeline/saved").get_json()["pipelines"] == []
    everyone = teacher_client.get("/api/pipeline/saved").get_json()["pipelines"]
    assert [(p["student"], p["name"]) for p in everyone] == [("测试学生", "button_fan")]
    assert teacher_client.get(f"/api/pipeline/saved/{me}/button_fan").get_json()["text"] == FAN
    refused = student_client.post("/api/pipeline/save",
                                  json={"text": FAN.replace("seconds", "x") + "  - {}\n"})
    assert refused.status_code == 400 and refused.get_json()["error"]["line"]


def test_run_drives_the_kit_in_this_process_and_only_its_owner_stops_it(
        app: Any, runtime: Any, student_client: Any) -> None:
    fan = runtime.factory.pin(27)
    started = student_client.post("/api/pipeline/run", json={"text": FAN})
    assert started.status_code == 200, started.get_data(as_text=True)
    assert runtime.pins.holder.kind == "pipeline"
    again = student_client.post("/api/pipeline/run", json={"text": FAN})
    assert again.status_code == 409
    runtime.bench.apply({"device": "button", "action": "click"})
    assert wait_for(lambda: fan.state == 1)
    state = student_client.get("/api/pipeline/state").get_json()
    assert state["running"] and state["values"]["switch"] is True
    other = signed_in(app, runtime, "王芳")
    assert other.post("/api/pipeline/stop", json={}).status_code == 404
    assert other.get("/api/pipeline/state").get_json() == {"running": True, "mine": False}
    stopped = student_client.post("/api/pipeline/stop", json={})
    assert stopped.status_code == 200 and not stopped.get_json()["running"]
    assert fan.state == 0 and runtime.pins.describe() is None


def test_a_lab_holding_the_pins_refuses_the_run_naming_it(runtime: Any,
                                                          student_client: Any) -> None:
    from labkit.drivers.pins import Holder

    lab = runtime.pins.acquire(Holder("lab:3", "lab", "李明"))
    try:
        r = student_client.post("/api/pipeline/run", json={"text": FAN})
    finally:
        lab.release()
    assert r.status_code == 409 and "李明" in r.get_json()["error"]["message"]


def test_ready_for_the_next_class_stops_the_pages_pipeline(runtime: Any, student_client: Any,
                                                           teacher_client: Any) -> None:
    assert student_client.post("/api/pipeline/run", json={"text": FAN}).status_code == 200
    r = teacher_client.post("/teacher/kit/next-class?format=json", json={})
    assert r.status_code == 200, r.get_data(as_text=True)
    assert r.get_json()["pipeline_stopped"] is True
    assert runtime.pins.describe() is None
    assert teacher_client.get("/api/pipeline/state").get_json() == {"running": False}


def test_the_next_class_finds_the_boot_pipeline_running_again(
        app: Any, runtime: Any, teacher_client: Any, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A pipeline kept for boot is part of the kit as a class finds it: "ready for the next
    class" stops it with everything else, then starts it again from the start."""
    from labkit.pipeline import systemd
    from labkit.pipeline.spec import parse
    from labkit.web.pipeline import runs, start_boot_pipeline

    monkeypatch.setenv("LABKIT_SYSTEMD_DIR", str(tmp_path / "units"))
    monkeypatch.setattr(systemd, "_systemctl", lambda *args: None)   # no systemd in a test
    systemd.enable(parse(FAN, wiring=runtime.wiring), runtime.settings.data_dir, "sim")
    first = start_boot_pipeline(app)
    assert first is not None and first.pipeline.name == "button_fan"
    r = teacher_client.post("/teacher/kit/next-class?format=json", json={})
    assert r.status_code == 200, r.get_data(as_text=True)
    done = r.get_json()
    assert done["pipeline_stopped"] is True and done["boot_pipeline_started"] == "button_fan"
    with app.app_context():
        again = runs().runner
    assert again is not None and again is not first
    assert teacher_client.get("/api/pipeline/state").get_json()["running"] is True
    assert runs_stop(app)


def runs_stop(app: Any) -> bool:
    from labkit.web.pipeline import runs

    with app.app_context():
        return runs().stop()
