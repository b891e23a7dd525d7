"""Lab pages in-process: teacher PIN, roster forms, picking a name, the lab API, portfolio.

Every bad input named in the issue gets a clear answer and writes nothing: roster CSV with
duplicates/empty/long/emoji names, a student id from another class in a URL, wrong PINs.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from pathlib import Path
from typing import Any

import pytest

from labkit import exportlock
from labkit.store import Store

PIN = "24681357"


def counts(store: Store, *, live_run: bool = False) -> dict[str, int]:
    """Rows per table. With a lab running, its own step results may legitimately be written
    meanwhile (the synthetic face keeps walking), so they are left out of the comparison."""
    tables = ["classes", "students", "runs", "reflections", "scores", "artefacts"]
    if not live_run:
        tables.append("step_results")
    return {t: store.db.one(f"SELECT COUNT(*) AS n FROM {t}")["n"] for t in tables}


@pytest.fixture
def web(app: Any, runtime: Any, data_dir: Path, model_store: Any) -> Any:
    """An English-speaking browser session with a CSRF token, and the kit's store."""
    (data_dir / "models").symlink_to(model_store.models_dir, target_is_directory=True)
    client = app.test_client()
    client.get("/lang/en")
    token = re.search(r'name="csrf-token" content="([^"]+)"',
                      client.get("/").get_data(as_text=True)).group(1)
    client.environ_base["HTTP_X_CSRFTOKEN"] = token
    client.store = Store.for_runtime(runtime)
    return client


@pytest.fixture
def school(web: Any) -> dict[str, Any]:
    """Teacher signed in; class A (王芳, 李雷) and class B (张三)."""
    assert web.post("/teacher/setup", data={"pin": PIN, "confirm": PIN}).status_code == 302
    roster = web.store.roster
    a, b = roster.add_class("二年级一班"), roster.add_class("二年级二班")
    wang, li = roster.add_students(a.id, ["王芳", "李雷"])
    zhang = roster.add_student(b.id, "张三")
    return {"a": a, "b": b, "wang": wang, "li": li, "zhang": zhang}


def pick(web: Any, student: Any) -> Any:
    return web.post(f"/student/classes/{student.class_id}/students/{student.id}",
                    data={"next": "/"})


def as_student_only(web: Any, student: Any) -> None:
    web.post("/teacher/logout")
    assert pick(web, student).status_code == 302


# ---- home -------------------------------------------------------------------------------------
def test_home_lists_the_bands_and_the_example_lab(web: Any) -> None:
    html = web.get("/").get_data(as_text=True)
    for band in ("band-experience", "band-cognition", "band-creative"):
        assert band in html
    assert 'id="lab-face_led"' in html and "The light that sees you" in html
    assert 'id="camera-view"' in html and 'id="bench"' in html  # camera + bench stay
    # every band has labs now: one of each is listed
    assert "No labs in this band yet." not in html
    assert 'id="lab-clap_lamp"' in html and 'id="lab-plant_corner"' in html \
        and 'id="lab-quantisation"' in html
    zh = web.get("/?lang=zh_CN").get_data(as_text=True)
    assert "看见你，灯就亮" in zh


# ---- teacher PIN ------------------------------------------------------------------------------
def test_first_visit_sets_the_pin(web: Any) -> None:
    assert "Set the teacher PIN" in web.get("/teacher").get_data(as_text=True)
    r = web.post("/teacher/setup", data={"pin": "123456", "confirm": "654321"})
    assert r.status_code == 400 and "not the same" in r.get_data(as_text=True)
    assert not web.store.pin.is_set
    r = web.post("/teacher/setup", data={"pin": "12a4", "confirm": "12a4"})
    assert r.status_code == 400 and "6 to 12 digits" in r.get_data(as_text=True)
    assert web.post("/teacher/setup", data={"pin": PIN, "confirm": PIN}).status_code == 302
    assert "Classes" in web.get("/teacher").get_data(as_text=True)
    r = web.post("/teacher/setup", data={"pin": "999999", "confirm": "999999"})
    assert r.status_code == 409 and web.store.pin.verify(PIN)


def test_wrong_pins_are_rate_limited(web: Any, school: dict[str, Any]) -> None:
    web.post("/teacher/logout")
    r = web.post("/teacher/login", data={"pin": "000000"})
    assert r.status_code == 403 and "Wrong PIN. 4 more tries" in r.get_data(as_text=True)
    for _ in range(4):
        r = web.post("/teacher/login", data={"pin": "000000"})
    assert r.status_code == 403 and "Too many tries" in r.get_data(as_text=True)
    r = web.post("/teacher/login", data={"pin": PIN})  # even the right PIN must wait now
    assert r.status_code == 429 and "Try again in" in r.get_data(as_text=True)
    assert "Teacher sign-in" in web.get("/teacher").get_data(as_text=True)
    web.store.pin_attempts.succeeded("kiosk")   # the wait is over
    assert web.post("/teacher/login", data={"pin": PIN}).status_code == 302
    assert "Classes" in web.get("/teacher").get_data(as_text=True)


def test_teacher_actions_need_the_pin_session(web: Any, school: dict[str, Any]) -> None:
    web.post("/teacher/logout")
    before = counts(web.store)
    r = web.post("/teacher/classes", data={"name": "三班"})
    assert r.status_code == 401 and "Teachers only" in r.get_data(as_text=True)
    r = web.get(f"/teacher/classes/{school['a'].id}")
    assert r.status_code == 302 and "/teacher" in r.headers["Location"]
    assert web.get(f"/portfolio/classes/{school['a'].id}/export.csv").status_code == 302
    assert counts(web.store) == before


def test_posts_without_the_csrf_token_are_refused(app: Any, web: Any,
                                                  school: dict[str, Any]) -> None:
    bare = app.test_client()
    with bare.session_transaction() as s:
        s["teacher"] = web.store.sessions.open("teacher")
    before = counts(web.store)
    r = bare.post("/teacher/classes", data={"name": "三班"})
    assert r.status_code == 400 and counts(web.store) == before


# ---- roster -----------------------------------------------------------------------------------
def test_roster_forms_add_and_refuse_bad_names(web: Any, school: dict[str, Any]) -> None:
    a = school["a"].id
    r = web.post(f"/teacher/classes/{a}/students", data={"name": "Amy"}, follow_redirects=True)
    assert "Amy added." in r.get_data(as_text=True)
    before = counts(web.store)
    for bad, words in (("😀", "emoji"), ("", "empty"), ("王芳", "already in"),
                       ("x" * 40, "characters long")):
        r = web.post(f"/teacher/classes/{a}/students", data={"name": bad}, follow_redirects=True)
        assert words in r.get_data(as_text=True), bad
    assert counts(web.store) == before


def test_roster_csv_with_bad_lines_lists_them_and_imports_nothing(web: Any,
                                                                  school: dict[str, Any]) -> None:
    a = school["a"].id
    data = "姓名\n赵六\n\n赵六\n小明😀\n" + "长" * 33 + "\n李雷\n,\n"
    before = counts(web.store)
    r = web.post(f"/teacher/classes/{a}/import", follow_redirects=True,
                 data={"file": (io.BytesIO(data.encode()), "class.csv")},
                 content_type="multipart/form-data")
    html = r.get_data(as_text=True)
    assert "nothing was imported" in html
    for line in ("Line 4:", "Line 5:", "Line 6:", "Line 7:"):
        assert line in html, line
    assert counts(web.store) == before
    r = web.post(f"/teacher/classes/{a}/import", follow_redirects=True,
                 data={"file": (io.BytesIO("姓名\n赵六\n钱七\n".encode("gbk")), "c.csv")},
                 content_type="multipart/form-data")
    assert "2 students imported." in r.get_data(as_text=True)


def test_roster_urls_with_a_student_from_another_class_are_404(web: Any,
                                                               school: dict[str, Any]) -> None:
    a, zhang = school["a"].id, school["zhang"]
    before = counts(web.store)
    for url in (f"/teacher/classes/{a}/students/{zhang.id}/delete",
                f"/teacher/classes/{a}/students/{zhang.id}/rename"):
        r = web.post(url, data={"name": "X"})
        assert r.status_code == 404, url
        assert f"no student number {zhang.id} in class 二年级一班" in r.get_data(as_text=True)
    assert counts(web.store) == before
    assert web.store.roster.student(school["b"].id, zhang.id).name == "张三"


# ---- students ---------------------------------------------------------------------------------
def test_picking_a_name_and_another_classes_student_id(web: Any, school: dict[str, Any]) -> None:
    web.post("/teacher/logout")
    a, zhang = school["a"].id, school["zhang"]
    r = web.post(f"/student/classes/{a}/students/{zhang.id}", data={"next": "/"})
    assert r.status_code == 404 and "no student number" in r.get_data(as_text=True)
    with web.session_transaction() as s:
        assert "student" not in s
    names = web.get(f"/student/classes/{a}").get_data(as_text=True)
    assert "王芳" in names and "张三" not in names
    assert pick(web, school["wang"]).status_code == 302
    assert 'id="nav-student">王芳' in web.get("/").get_data(as_text=True)
    assert web.get("/student/classes/999").status_code == 404


def test_lab_page_needs_a_name_then_shows_lesson_wiring_camera_and_bench(
        web: Any, school: dict[str, Any]) -> None:
    web.post("/teacher/logout")
    r = web.get("/labs/face_led")
    assert r.status_code == 302 and r.headers["Location"].startswith("/student?next=")
    pick(web, school["wang"])
    html = web.get("/labs/face_led").get_data(as_text=True)
    assert html.count('class="step"') == 4 and 'data-check="led_on_with_face"' in html
    assert 'id="wiring-diagram"' in html and "GPIO17" in html and "pin 11" in html
    assert 'id="camera-view"' in html and 'id="bench"' in html and "js/labs.js" in html
    assert web.get("/labs/no_such_lesson").status_code == 404


# ---- lab API + portfolio ----------------------------------------------------------------------
def test_start_needs_a_student(web: Any, school: dict[str, Any]) -> None:
    web.post("/teacher/logout")
    r = web.post("/api/labs/face_led/start", json={})
    assert r.status_code == 401 and r.json["error"]["code"] == "need_student"


def test_a_run_from_start_to_portfolio_and_exports(web: Any, school: dict[str, Any],
                                                   runtime: Any) -> None:
    as_student_only(web, school["wang"])
    r = web.post("/api/labs/face_led/start", json={})
    assert r.status_code == 200, r.json
    run_id = r.json["run_id"]
    assert [s["step"] for s in r.json["steps"]] == ["look", "follow", "dark", "colours"]
    assert web.post(f"/api/labs/runs/{run_id}/snapshot", json={}).status_code == 200
    before = counts(web.store)
    for body, code in (({"answer": "", "self": {"observe": 2, "rule": 2, "care": 3}}, 400),
                       ({"answer": "ok", "self": {"observe": 2}}, 400),
                       ({"answer": "ok", "self": {"observe": 9, "rule": 2, "care": 3}}, 400),
                       ({"answer": "ok", "self": {"observe": 2, "rule": 2, "care": 3,
                                                  "hack": 1}}, 400)):
        r = web.post(f"/api/labs/runs/{run_id}/finish", json=body)
        assert r.status_code == code and r.json["error"]["message"], body
    assert counts(web.store) == before
    r = web.post(f"/api/labs/runs/{run_id}/finish",
                 json={"answer": "摄像头看到脸，灯就亮了", "self": {"observe": 2, "rule": 3, "care": 3}})
    assert r.status_code == 200 and r.json["portfolio"].endswith(f"#run-{run_id}")
    from labkit.projects.runner import LabRunner

    assert LabRunner.for_runtime(runtime).active is None
    page = web.get(r.json["portfolio"].split("#")[0]).get_data(as_text=True)
    assert f'id="run-{run_id}"' in page and "摄像头看到脸，灯就亮了" in page
    assert "The light that sees you" in page and "3/3" in page  # rule level 3 of 3
    # per-student CSV and ZIP (plain: the teacher allowed plain student downloads)
    exportlock.set_students_plain(web.store.data_dir, True)
    rows = list(csv.reader(io.StringIO(
        web.get(f"/portfolio/classes/{school['a'].id}/students/{school['wang'].id}/export.csv")
        .get_data().decode("utf-8-sig"))))
    assert rows[0][:4] == ["Class", "Student", "Lesson id", "Lab"]
    assert rows[1][1] == "王芳" and rows[1][2] == "face_led" and "摄像头看到脸" in rows[1][13]
    assert rows[1][14] == "Photo 1"
    z = zipfile.ZipFile(io.BytesIO(web.get(
        f"/portfolio/classes/{school['a'].id}/students/{school['wang'].id}/export.zip").get_data()))
    names = z.namelist()
    assert "report.html" in names and "portfolio.csv" in names
    assert any(n.startswith("files/") and n.endswith(".jpg") for n in names)
    report = z.read("report.html").decode()
    assert "王芳" in report and "摄像头看到脸，灯就亮了" in report and "http" not in report.lower()


def test_another_students_run_and_portfolio_are_refused(web: Any, school: dict[str, Any]) -> None:
    as_student_only(web, school["wang"])
    run_id = web.post("/api/labs/face_led/start", json={}).json["run_id"]
    pick(web, school["li"])
    before = counts(web.store, live_run=True)
    r = web.post(f"/api/labs/runs/{run_id}/finish",
                 json={"answer": "mine now", "self": {"observe": 1, "rule": 1, "care": 1}})
    assert r.status_code == 403 and r.json["error"]["code"] == "forbidden"
    assert web.post(f"/api/labs/runs/{run_id}/stop", json={}).status_code == 403
    r = web.get(f"/portfolio/classes/{school['a'].id}/students/{school['wang'].id}")
    assert r.status_code == 403 and "only open your own portfolio" in r.get_data(as_text=True)
    assert counts(web.store, live_run=True) == before
    # a student id from another class in the URL: 404 whoever asks
    url = f"/portfolio/classes/{school['a'].id}/students/{school['zhang'].id}"
    assert web.get(url).status_code == 404
    assert web.get(url + "/export.csv").status_code == 404
    web.post("/teacher/login", data={"pin": PIN})
    r = web.get(url)
    assert r.status_code == 404 and "no student number" in r.get_data(as_text=True)
    r = web.post(url + f"/runs/{run_id}/scores", data={"level-observe": "2"})
    assert r.status_code == 404 and counts(web.store, live_run=True) == before


def test_teacher_scores_and_class_exports(web: Any, school: dict[str, Any]) -> None:
    as_student_only(web, school["wang"])
    run_id = web.post("/api/labs/face_led/start", json={}).json["run_id"]
    web.post(f"/api/labs/runs/{run_id}/finish",
             json={"answer": "灯会跟着脸", "self": {"observe": 1, "rule": 2, "care": 3}})
    web.post("/teacher/login", data={"pin": PIN})
    a, wang = school["a"].id, school["wang"].id
    base = f"/portfolio/classes/{a}/students/{wang}/runs/{run_id}/scores"
    r = web.post(base, data={"level-observe": "7"})
    assert r.status_code == 400
    assert web.post(base, data={"level-observe": "3", "level-rule": "2"}).status_code == 302
    run = web.store.runs.get(run_id)
    assert run.scores_by("teacher")["observe"].level == 3 and run.scores_by("self")["observe"].level == 1
    html = web.get(f"/portfolio/classes/{a}").get_data(as_text=True)
    assert "王芳" in html and "李雷" in html
    rows = list(csv.reader(io.StringIO(web.get(f"/portfolio/classes/{a}/export.csv?plain=understood")
                                       .get_data().decode("utf-8-sig"))))
    assert len(rows) == 2 and "Observing 3/3" in rows[1][11]
    z = zipfile.ZipFile(io.BytesIO(web.get(f"/portfolio/classes/{a}/export.zip?plain=understood").get_data()))
    report = z.read("report.html").decode()
    assert "王芳" in report and "李雷" in report and "No lab runs yet." in report


def test_csv_cells_cannot_become_spreadsheet_formulas(web: Any, school: dict[str, Any]) -> None:
    as_student_only(web, school["wang"])
    run_id = web.post("/api/labs/face_led/start", json={}).json["run_id"]
    web.post(f"/api/labs/runs/{run_id}/finish",
             json={"answer": "=HYPERLINK(\"x\")", "self": {"observe": 1, "rule": 1, "care": 1}})
    exportlock.set_students_plain(web.store.data_dir, True)
    text = web.get(f"/portfolio/classes/{school['a'].id}/students/{school['wang'].id}/export.csv"
                   ).get_data().decode("utf-8-sig")
    assert "'=HYPERLINK" in text


def test_busy_kit_and_takeover(web: Any, school: dict[str, Any]) -> None:
    as_student_only(web, school["wang"])
    first = web.post("/api/labs/face_led/start", json={}).json["run_id"]
    pick(web, school["li"])
    r = web.post("/api/labs/face_led/start", json={})
    assert r.status_code == 409 and r.json["error"]["code"] == "busy"
    active = web.get("/api/labs/active").json["active"]
    assert active["lesson"] == "face_led" and "run_id" not in active  # not someone else's run
    second = web.post("/api/labs/face_led/start", json={"takeover": True}).json["run_id"]
    assert second != first and web.store.runs.get(first).status == "stopped"


def test_bad_json_bodies_are_clear(web: Any, school: dict[str, Any]) -> None:
    as_student_only(web, school["wang"])
    r = web.post("/api/labs/face_led/start", data="go!", content_type="text/plain")
    assert r.status_code == 400 and r.json["error"]["code"] == "bad_input"
    r = web.post("/api/labs/face_led/start", json=[1, 2])
    assert r.status_code == 400


def _first_events(response: Any, wanted: int) -> list[tuple[str, dict[str, Any]]]:
    """The first `wanted` events of an SSE response read straight from its body iterator."""
    import json

    events: list[tuple[str, dict[str, Any]]] = []
    text = ""
    for chunk in response.response:
        text += chunk.decode()
        while "\n\n" in text and len(events) < wanted:
            block, text = text.split("\n\n", 1)
            lines = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
            if "event" in lines:
                events.append((lines["event"], json.loads(lines["data"])))
        if len(events) >= wanted:
            break
    response.close()
    return events


def test_a_page_connecting_after_the_start_hears_the_lab_is_running(
        web: Any, school: dict[str, Any]) -> None:
    """A stream opened after the start (a slow page, a reconnect) still learns the lab runs;
    the event is marked resumed, so a page does not take it for a fresh start."""
    r = web.get("/events?topics=lab,bench")
    assert [topic for topic, _ in _first_events(r, 1)] == ["bench.state"]  # nothing runs yet
    as_student_only(web, school["wang"])
    run_id = web.post("/api/labs/face_led/start", json={}).json["run_id"]
    topic, data = _first_events(web.get("/events?topics=lab.state", buffered=False), 1)[0]
    assert topic == "lab.state" and data["run_id"] == run_id and data["status"] == "running"
    assert data["lesson"] == "face_led" and data["resumed"] is True
    assert web.post(f"/api/labs/runs/{run_id}/stop", json={}).status_code == 200
    r = web.get("/events?topics=lab,bench")
    assert [topic for topic, _ in _first_events(r, 1)] == ["bench.state"]


def test_the_page_may_open_its_run_as_soon_as_it_hears_the_run_started(
        web: Any, school: dict[str, Any], runtime: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The lab page asks for the run's sliders and parts when its event stream says
    "running", which can arrive before the answer to the start: by then the run must already
    be this browser's, or those requests are refused as someone else's."""
    from labkit.web import auth

    as_student_only(web, school["wang"])
    heard: list[bool] = []
    publish = runtime.bus.publish

    def listening(topic: str, data: Any = None, *args: Any, **kwargs: Any) -> Any:
        if topic == "lab.state" and isinstance(data, dict) and data.get("status") == "running":
            heard.append(auth.may_open("run", data["run_id"], school["wang"].id))
        return publish(topic, data, *args, **kwargs)

    monkeypatch.setattr(runtime.bus, "publish", listening)
    run_id = web.post("/api/labs/face_led/start", json={}).json["run_id"]
    assert heard == [True]
    assert web.get(f"/api/labs/runs/{run_id}/settings").status_code == 200
    assert web.post(f"/api/labs/runs/{run_id}/stop", json={}).status_code == 200
