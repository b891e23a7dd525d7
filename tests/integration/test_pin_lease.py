"""One owner of the pins, over HTTP: while a lab runs, /learn cannot drive its outputs (409,
naming who holds the kit), the page says who holds it, and taking over needs the explicit
{"takeover": true} the page sends only after a confirm dialog."""

from __future__ import annotations

import re
import time
from typing import Any

from tests.integration import test_labs_web as labs_web
from tests.integration.test_labs_web import as_student_only, pick
from tests.web.test_learn_page import create, wait_sensor_reading, wait_trained

web = labs_web.web          # the same fixtures: a CSRF-ready client, a signed-in teacher
school = labs_web.school


def _trained_sensor_project(web: Any, runtime: Any) -> tuple[str, str]:
    p = create(web, "sensor", ["近", "远"]).get_json()
    pid, (near, far) = p["id"], p["classes"]
    for cls, distance in ((near, 0.1), (far, 0.9)):
        runtime.bench.apply({"device": "distance", "value": distance})
        wait_sensor_reading(runtime, distance)
        for _ in range(4):
            assert web.post(f"/api/learn/projects/{pid}/classes/{cls['id']}/capture",
                            json={}).status_code == 200
            time.sleep(0.15)
    assert web.post(f"/api/learn/projects/{pid}/train", json={"classifier": "knn"}
                    ).status_code == 202
    assert wait_trained(web, pid)["job"]["state"] == "done"
    assert web.post(f"/api/learn/projects/{pid}/actions/{near['id']}",
                    json={"type": "led", "value": "on"}).status_code == 200
    return pid, near["id"]


def another_browser(app: Any) -> Any:
    """A second browser on the kit (its own session and CSRF token)."""
    client = app.test_client()
    client.get("/lang/en")
    client.environ_base["HTTP_X_CSRFTOKEN"] = re.search(
        r'name="csrf-token" content="([^"]+)"', client.get("/").get_data(as_text=True)).group(1)
    return client


def test_a_learn_action_is_refused_while_a_lab_runs(web: Any, school: dict[str, Any],
                                                    runtime: Any, app: Any) -> None:
    pid, _near = _trained_sensor_project(web, runtime)       # the teacher's /learn project
    kid = another_browser(app)
    assert pick(kid, school["li"]).status_code == 302
    run = kid.post("/api/labs/face_led/start", json={})
    assert run.status_code == 200, run.get_json()
    runtime.bench.apply({"device": "distance", "value": 0.1})      # "近" → LED on
    wait_sensor_reading(runtime, 0.1)
    r = web.get(f"/api/learn/projects/{pid}/predict")
    assert r.status_code == 409, r.get_json()
    error = r.get_json()["error"]
    assert error["code"] == "pins_busy" and "李雷" in error["message"]
    assert error["holder"]["kind"] == "lab" and error["holder"]["total"] == 4
    lab = kid.get("/api/labs/active").get_json()
    assert "李雷's lab is running" in lab["holder_text"]
    # the lab's log holds only what the lab did: the refused action never lit the LED
    led_on = [e for e in _active(runtime).log.entries("led") if e.value]
    face_on = _active(runtime).log.intervals("face")
    assert all(any(a <= e.ts <= b + 0.5 for a, b in face_on) for e in led_on)
    # once the lab stops, the same action goes through
    kid.post(f"/api/labs/runs/{run.get_json()['run_id']}/stop", json={})
    r = web.get(f"/api/learn/projects/{pid}/predict")
    assert r.status_code == 200 and r.get_json()["action"] == {"type": "led", "value": "on"}
    assert runtime.kit.led.value == 1


def _active(runtime: Any) -> Any:
    from labkit.projects.runner import LabRunner

    return LabRunner.for_runtime(runtime).active


def test_taking_the_kit_over_needs_confirmation(web: Any, school: dict[str, Any]) -> None:
    as_student_only(web, school["wang"])
    first = web.post("/api/labs/face_led/start", json={}).get_json()["run_id"]
    pick(web, school["li"])
    for body in ({}, {"takeover": "yes"}, {"takeover": 1}):      # only a literal true counts
        r = web.post("/api/labs/face_led/start", json=body)
        assert r.status_code == 409, body
        error = r.get_json()["error"]
        assert error["code"] == "busy" and "王芳's lab is running, " in error["message"]
    assert web.store.runs.get(first).status == "running"
    page = web.get("/labs/face_led").get_data(as_text=True)
    assert "王芳&#39;s lab is running" in page or "王芳's lab is running" in page
    r = web.post("/api/labs/face_led/start", json={"takeover": True})
    assert r.status_code == 200
    assert web.store.runs.get(first).status == "stopped"
    assert web.get("/api/labs/active").get_json()["holder"]["name"] == "李雷"


def test_the_demo_is_for_teachers_and_holds_the_kit(web: Any, school: dict[str, Any]) -> None:
    r = web.post("/api/labs/face_led/demo", json={})            # the teacher is signed in
    assert r.status_code == 200, r.get_json()
    snap = r.get_json()
    assert snap["demo"] and snap["run_id"] is None and snap["token"]
    holder = web.get("/api/labs/active").get_json()["holder"]
    assert holder["kind"] == "demo"
    assert web.post("/api/labs/face_led/demo/stop", json={}).get_json() == {"stopped": True}
    as_student_only(web, school["wang"])
    r = web.post("/api/labs/face_led/demo", json={})
    assert r.status_code == 401 and r.get_json()["error"]["code"] == "need_teacher"
