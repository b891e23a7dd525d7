"""Class sessions through the real app: the teacher sets the grade, starts a lesson with some
labs open, the class's students see and may start only those (others refused with a clear
message), another class is not limited, the teacher ends it; labs switched off outside a
lesson; the progress wall (JSON and its SSE stream) is the teacher's only."""

from __future__ import annotations

from typing import Any

import pytest

from labkit import steady
from tests.security.web_helpers import LAPTOP, browser, store_of, student, teacher

OPEN, CLOSED = "face_led", "clap_lamp"


@pytest.fixture
def room(app: Any) -> dict[str, Any]:
    store = store_of(app)
    cls = store.roster.add_class("三年级一班")
    wang, li = store.roster.add_students(cls.id, ["王芳", "李雷"], ["1", "2"])
    other = store.roster.add_class("四年级一班")
    zhang, = store.roster.add_students(other.id, ["张三"])
    return {"class": cls, "wang": wang, "li": li, "other": other, "zhang": zhang,
            "teacher": teacher(app, **LAPTOP)}


def _start(room: dict[str, Any], *labs: str, grade: str = "3") -> Any:
    return room["teacher"].post(f"/teacher/classes/{room['class'].id}/lesson/start",
                                data={"lab": list(labs), "grade": grade, "hours": "1"})


def _home_labs(client: Any) -> str:
    return client.get("/").get_data(as_text=True)


def test_a_lesson_limits_the_class_to_its_labs_until_it_ends(app: Any,
                                                             room: dict[str, Any]) -> None:
    kid = student(app, room["wang"])
    other = student(app, room["zhang"])
    assert f'id="lab-{CLOSED}"' in _home_labs(kid)
    r = _start(room, OPEN)
    assert r.status_code == 302 and "/wall" in r.headers["Location"]
    session = store_of(app).classroom.running(room["class"].id)
    assert session.lab_ids == (OPEN,) and session.grade == 3
    home = _home_labs(kid)
    assert f'id="lab-{OPEN}"' in home and f'id="lab-{CLOSED}"' not in home
    page = kid.get(f"/labs/{CLOSED}")
    assert page.status_code == 403 and "今天的课" in page.get_data(as_text=True)
    refused = kid.post(f"/api/labs/{CLOSED}/start", json={})
    assert refused.status_code == 403 and refused.get_json()["error"]["code"] == "lab_closed"
    assert kid.get(f"/labs/{OPEN}").status_code == 200
    assert f'id="lab-{CLOSED}"' in _home_labs(other)             # another class: not limited
    assert other.get(f"/labs/{CLOSED}").status_code == 200
    assert f'id="lab-{CLOSED}"' in _home_labs(room["teacher"])   # the teacher sees every lab
    page = room["teacher"].get(f"/teacher/classes/{room['class'].id}/lesson").get_data(
        as_text=True)
    assert 'id="end-lesson"' in page and 'id="start-lesson"' not in page
    home = room["teacher"].get("/teacher").get_data(as_text=True)
    for link in (f'id="lessons-{room["class"].id}"', 'id="semester-plan"', 'id="impl-report"',
                 'id="kit-controls"'):
        assert link in home, link
    again = _start(room, CLOSED)
    assert again.status_code == 302 and store_of(app).classroom.running(
        room["class"].id).lab_ids == (OPEN,)                     # one lesson at a time
    end = room["teacher"].post(f"/teacher/classes/{room['class'].id}/lesson/{session.id}/end")
    assert end.status_code == 302
    assert store_of(app).classroom.running(room["class"].id) is None
    assert f'id="lab-{CLOSED}"' in _home_labs(kid)
    assert kid.get(f"/labs/{CLOSED}").status_code == 200


def test_bad_starts_are_refused_with_a_message_and_start_nothing(app: Any,
                                                                room: dict[str, Any]) -> None:
    for labs, grade in (((), "3"), (("no_such_lab",), "3"), ((OPEN,), "13")):
        r = room["teacher"].post(f"/teacher/classes/{room['class'].id}/lesson/start",
                                 data={"lab": list(labs), "grade": grade}, follow_redirects=True)
        assert r.status_code == 200 and 'flash-error' in r.get_data(as_text=True)
    bad_hours = room["teacher"].post(f"/teacher/classes/{room['class'].id}/lesson/start",
                                     data={"lab": [OPEN], "grade": "3", "hours": "lots"},
                                     follow_redirects=True)
    assert "flash-error" in bad_hours.get_data(as_text=True)
    assert store_of(app).classroom.sessions() == []
    r = room["teacher"].post("/teacher/classes/999/lesson/start", data={"lab": [OPEN]})
    assert r.status_code == 404


def test_labs_switched_off_for_a_class(app: Any, room: dict[str, Any]) -> None:
    from labkit.curriculum import load

    every = set(load().lessons)
    on = sorted(every - {CLOSED})
    r = room["teacher"].post(f"/teacher/classes/{room['class'].id}/labs", data={"on": on})
    assert r.status_code == 302
    assert store_of(app).classroom.labs_off(room["class"].id) == {CLOSED}
    kid = student(app, room["wang"])
    assert f'id="lab-{CLOSED}"' not in _home_labs(kid)
    page = kid.get(f"/labs/{CLOSED}")
    assert page.status_code == 403 and "关闭" in page.get_data(as_text=True)
    refused = kid.post(f"/api/labs/{CLOSED}/start", json={})
    assert refused.get_json()["error"]["code"] == "lab_closed"
    assert student(app, room["zhang"]).get(f"/labs/{CLOSED}").status_code == 200
    html = room["teacher"].get(f"/teacher/classes/{room['class'].id}/lesson").get_data(
        as_text=True)
    assert f'id="on-{CLOSED}"  >' in html or f'id="on-{CLOSED}" >' in html


def test_the_progress_wall_is_the_teachers_only(app: Any, room: dict[str, Any]) -> None:
    _start(room, OPEN)
    session = store_of(app).classroom.running(room["class"].id)
    kid = student(app, room["wang"])
    for path in (f"/teacher/lessons/{session.id}/wall",
                 f"/api/teacher/lessons/{session.id}/wall",
                 f"/api/teacher/lessons/{session.id}/wall/events"):
        r = kid.get(path)
        assert r.status_code in (302, 401), path
    anon = browser(app)
    assert anon.post(f"/teacher/classes/{room['class'].id}/lesson/{session.id}/end"
                     ).status_code == 401
    no_csrf = app.test_client()
    no_csrf.environ_base.update(room["teacher"].environ_base)
    no_csrf.environ_base.pop("HTTP_X_CSRFTOKEN")
    no_csrf.set_cookie(*_cookie(room["teacher"]))
    r = no_csrf.post(f"/teacher/classes/{room['class'].id}/lesson/{session.id}/end")
    assert r.status_code == 400
    assert store_of(app).classroom.running(room["class"].id) is not None
    # another class's lesson id under this class: not found, nothing ended
    other = room["teacher"].post(f"/teacher/classes/{room['other'].id}/lesson/{session.id}/end")
    assert other.status_code == 404
    assert store_of(app).classroom.running(room["class"].id) is not None


def _cookie(client: Any) -> tuple[str, str]:
    cookie = client.get_cookie("session")
    return "session", cookie.value


def test_the_wall_shows_who_is_where(app: Any, room: dict[str, Any]) -> None:
    _start(room, OPEN)
    session = store_of(app).classroom.running(room["class"].id)
    runs = store_of(app).runs
    run = runs.start(room["wang"].id, lesson_id=OPEN, project_id=OPEN, steps_total=3)
    runs.record_step(run, "look", "face_seen")
    data = room["teacher"].get(f"/api/teacher/lessons/{session.id}/wall").get_json()
    by = {s["name"]: s for s in data["students"]}
    assert by["王芳"]["state"] == "working" and by["王芳"]["steps_passed"] == 1
    assert by["王芳"]["lab_title"] and by["李雷"]["state"] == "not_started"
    assert data["counts"]["working"] == 1 and data["session"]["running"] is True
    # a lab that keeps failing makes its student stuck at once
    app.extensions["labkit"].bus.publish("lab.error", {"run_id": run, "message": "boom"})
    data = room["teacher"].get(f"/api/teacher/lessons/{session.id}/wall").get_json()
    assert {s["name"]: s for s in data["students"]}["王芳"]["state"] == "stuck"
    html = room["teacher"].get(f"/teacher/lessons/{session.id}/wall").get_data(as_text=True)
    assert 'data-state="stuck"' in html and "王芳" in html


def test_the_wall_stream_sends_a_snapshot_then_changes(app: Any, room: dict[str, Any]) -> None:
    _start(room, OPEN)
    session = store_of(app).classroom.running(room["class"].id)
    r = room["teacher"].get(f"/api/teacher/lessons/{session.id}/wall/events", buffered=False)
    assert r.status_code == 200 and r.mimetype == "text/event-stream"
    chunks = iter(r.response)
    assert next(chunks).startswith(b"retry:")
    first = next(chunks).decode("utf-8")
    assert first.startswith("event: wall") and "王芳" in first and '"not_started"' in first
    run = store_of(app).runs.start(room["wang"].id, lesson_id=OPEN, project_id=OPEN,
                                   steps_total=3)
    app.extensions["labkit"].bus.publish("lab.state", {"run_id": run, "status": "running"})
    second = next(chunks).decode("utf-8")
    assert '"working"' in second and f'"run_id":{run}' in second
    r.close()
    assert steady.now() > session.started_at


def test_lab_errors_count_only_while_recent(app: Any) -> None:
    from labkit.web.lessons import LabErrors

    now = [100.0]
    bus = app.extensions["labkit"].bus
    errors = LabErrors(bus, recent_s=120.0, clock=lambda: now[0])
    try:
        bus.publish("lab.error", {"run_id": 7, "message": "boom"})
        bus.publish("lab.error", {"run_id": 7, "message": "again"})
        bus.publish("lab.error", {"run_id": "not a run"})
        assert errors.counts() == {7: 2}
        now[0] += 121
        assert errors.counts() == {}
    finally:
        errors.close()
