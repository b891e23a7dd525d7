"""The code lab's JSON API: run a program, stream its events, stop it, save and open programs."""

from __future__ import annotations

import json
from typing import Any

LED_ON = "from gpiozero import LED\nled = LED(17)\nled.on()\nprint('on', led.value)\n"


def run_events(client: Any, source: str) -> list[dict[str, Any]]:
    """Start `source` and read its event stream to the exit event."""
    r = client.post("/api/code/run", json={"source": source})
    assert r.status_code == 200, r.get_data(as_text=True)
    run_id = r.get_json()["run_id"]
    stream = client.get(f"/api/code/runs/{run_id}/events", buffered=False)
    assert stream.mimetype == "text/event-stream"
    events = []
    for chunk in stream.response:
        for block in chunk.decode().split("\n\n"):
            data = [line[6:] for line in block.splitlines() if line.startswith("data: ")]
            if data:
                events.append(json.loads(data[0]))
        if events and events[-1]["type"] == "exit":
            break
    stream.close()
    return events


def test_a_program_drives_the_kits_led_and_its_output_streams(student_client: Any,
                                                                runtime: Any) -> None:
    seen = []
    runtime.bus.subscribe("bench.state")
    sub = runtime.bus.subscribe("pins.holder")
    events = run_events(student_client, LED_ON + "import time\ntime.sleep(0.5)\n")
    kinds = [e["type"] for e in events]
    assert kinds[0] == "start" and kinds[-1] == "exit"
    assert {"type": "stdout", "text": "on 1", "seq": kinds.index("stdout") + 1} in events
    assert events[-1]["reason"] == "done" and events[-1]["code"] == 0
    while (ev := sub.get_nowait()) is not None:
        seen.append(ev.data["holder"])
    # the program held the kit's pins while it ran, as "program" with the student's name
    assert any(h and h["kind"] == "program" and h["name"] == "测试学生" for h in seen)
    assert runtime.factory.pin(17).state == 0          # put back when the program ended


def test_a_lab_holding_the_pins_refuses_the_program_in_the_kits_language(
        student_client: Any, runtime: Any) -> None:
    from labkit.drivers.pins import Holder

    lab = runtime.pins.acquire(Holder("lab:9", "lab", "李明"))
    try:
        events = run_events(student_client, LED_ON)
    finally:
        lab.release()
    last = [e["text"] for e in events if e["type"] == "stderr"][-1]
    assert "李明" in last and "实验正在进行" in last          # zh_CN, the kit's language
    assert events[-1]["reason"] == "error"


def test_the_idle_demo_gives_way_and_comes_back(student_client: Any, runtime: Any) -> None:
    assert runtime.idle_demo_running
    events = run_events(student_client, LED_ON + "import time\ntime.sleep(0.3)\n")
    assert events[-1]["reason"] == "done"
    assert runtime.idle_demo_running and runtime.pins.holder.kind == "idle"


def test_protection_in_force_is_reported(student_client: Any) -> None:
    events = run_events(student_client, "print('hi')")
    protection = next(e for e in events if e["type"] == "protection")
    assert protection["network"] in ("namespace", "guard")
    assert protection["no_new_privs"] is True
    assert events[-1]["protection"]["network"] == protection["network"]


def test_an_error_in_the_program_is_its_stderr_and_a_reason(student_client: Any) -> None:
    events = run_events(student_client, "1 / 0")
    stderr = [e["text"] for e in events if e["type"] == "stderr"]
    assert stderr[-1] == "ZeroDivisionError: division by zero"
    assert any('File "main.py", line 1' in line for line in stderr)
    assert not any("boot.py" in line for line in stderr)     # the sandbox's frames are hidden
    assert events[-1]["reason"] == "error" and events[-1]["code"] == 1


def test_stop_ends_a_running_program(student_client: Any, runtime: Any) -> None:
    r = student_client.post("/api/code/run", json={"source": "while True:\n    pass\n"})
    run_id = r.get_json()["run_id"]
    # a busy program does not stop the kit serving its other pages
    assert student_client.get("/api/bench").status_code == 200
    assert student_client.get("/code").status_code == 200
    again = student_client.post("/api/code/run", json={"source": "print(1)"})
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "busy"
    assert student_client.post(f"/api/code/runs/{run_id}/stop").status_code == 200
    run = runtime.service("code_runs", dict).get(run_id)[0]
    assert run.wait(20)["reason"] == "stopped"


def test_bad_requests_are_clear(student_client: Any, client: Any) -> None:
    r = student_client.post("/api/code/run", json={"source": "   "})
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "bad_input"
    r = student_client.post("/api/code/run", json={"source": 5})
    assert r.status_code == 400
    assert student_client.get("/api/code/runs/999/events").status_code == 404
    assert student_client.post("/api/code/runs/999/stop").status_code == 404
    # nobody signed in: refused before anything runs
    assert client.post("/api/code/run", json={"source": "print(1)"}).status_code in (400, 401, 403)


def test_examples_open_and_compile(student_client: Any) -> None:
    listing = student_client.get("/api/code/examples").get_json()["examples"]
    assert {e["id"] for e in listing if e["kind"] == "python"} == {
        "led_blink", "button_led", "faces_led", "say_hello"}
    for e in listing:
        opened = student_client.get(f"/api/code/examples/{e['id']}").get_json()
        if e["kind"] == "blocks":       # a workspace; the page generates its Python
            assert opened["blocks"]["blocks"]["blocks"][0]["type"].startswith("labkit_")
            continue
        source = opened["source"]
        compile(source, e["id"], "exec")
        assert any("\u4e00" <= ch <= "\u9fff" for ch in source)     # Chinese comments
    assert student_client.get("/api/code/examples/nope").status_code == 404


def test_programs_are_saved_listed_and_opened_by_their_owner_only(student_client: Any,
                                                                    app: Any, runtime: Any) -> None:
    r = student_client.post("/api/code/programs", json={"name": "亮灯", "source": LED_ON})
    assert r.status_code == 200, r.get_data(as_text=True)
    pid = r.get_json()["program"]["id"]
    listing = student_client.get("/api/code/programs").get_json()["programs"]
    assert [p["name"] for p in listing] == ["亮灯"]
    opened = student_client.get(f"/api/code/programs/{pid}").get_json()["program"]
    assert opened["source"] == LED_ON
    r = student_client.post("/api/code/programs", json={"name": "亮灯 2", "source": "print(2)",
                                                        "id": pid})
    assert r.get_json()["program"]["id"] == pid
    assert student_client.post("/api/code/programs", json={"name": " ", "source": "x"}
                               ).status_code == 400
    assert student_client.get("/api/code/programs/../../secret_key").status_code == 404
    assert student_client.get("/api/code/programs/0123456789ab").status_code == 404

    # another student of the class sees none of it
    from labkit.store import Store
    from tests.conftest import _signed_in_client

    roster = Store.for_runtime(runtime).roster
    other = roster.add_student(student_client.student.class_id, "另一个学生")
    second = _signed_in_client(app)
    second.post(f"/student/classes/{other.class_id}/students/{other.id}", data={"next": "/"})
    assert second.get("/api/code/programs").get_json()["programs"] == []
    assert second.get(f"/api/code/programs/{pid}").status_code == 404


def test_the_code_page_loads_with_the_editor_bundle(student_client: Any) -> None:
    html = student_client.get("/code").get_data(as_text=True)
    assert 'id="code-editor"' in html and "js/code.js" in html
    assert student_client.get("/static/vendor/codemirror/codemirror.js").status_code == 200
    # the Blocks tab: Blockly's messages and labkit's block labels in the page's language
    assert "msg/zh-hans.js" in html and '"cat_camera": "摄像头"' in html
    html = student_client.get("/code?lang=en&tab=blocks").get_data(as_text=True)
    assert "msg/en.js" in html and '"cat_camera": "Camera"' in html and '"start": "blocks"' in html
    for f in ("blockly_compressed.js", "python_compressed.js", "blockly.css", "media/sprites.svg"):
        assert student_client.get("/static/vendor/blockly/" + f).status_code == 200


def test_the_teacher_reads_a_students_programs_and_a_purge_removes_them(
        student_client: Any, teacher_client: Any, runtime: Any) -> None:
    student = student_client.student
    student_client.post("/api/code/programs", json={"name": "作业", "source": "print(1)"})
    r = teacher_client.get(f"/api/code/students/{student.id}/programs")
    assert [p["name"] for p in r.get_json()["programs"]] == ["作业"]
    assert student_client.get(f"/api/code/students/{student.id}/programs").status_code in (401, 403)
    assert teacher_client.get("/api/code/students/99999/programs").status_code == 404
    from labkit.store import Store

    Store.for_runtime(runtime).delete_student(student.class_id, student.id)
    folder = runtime.settings.data_dir / "portfolio" / str(student.id)
    assert not folder.exists()
