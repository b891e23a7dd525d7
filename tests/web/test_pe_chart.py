"""The PE assessment's class chart: figures from the runs in the store, one bar per student in
the roster's order, one chart per exercise, the same figures in the encrypted CSV, and a
student sees only their own.

Each run is a demo played on a simulated clock with the real pose model — short scenarios of
the lab's own scenes: one full jumping jack and a half one, two full ones, standing still, two
full sit-ups and a half one — so the students' figures differ in every column.
"""

from __future__ import annotations

import csv
import io
import re
import time
from pathlib import Path
from typing import Any

import pytest

from labkit.exportlock import open_encrypted_zip
from labkit.projects.clock import SimClock
from labkit.projects.demo import Scenario
from labkit.projects.discovery import PACKAGE_LABS
from labkit.projects.registry import discover
from labkit.projects import runner as runner_module
from labkit.projects.runner import LabRunner
from labkit.store import Store
from labkit.web.auth import STUDENT_KEY

PE = "pe_assessment"


def _jacks(seconds: float, depth: float = 1.0) -> dict[str, Any]:
    return {"for": seconds, "camera": {"scene": "exercise", "exercise": "jumping_jack",
                                       "period": 1.5 if depth == 1.0 else 2, "depth": depth}}


def _person(seconds: float) -> dict[str, Any]:
    return {"for": seconds, "camera": "person"}


def _sit_ups(seconds: float, depth: float = 1.0) -> dict[str, Any]:
    return {"for": seconds, "camera": {"scene": "exercise", "exercise": "sit_up", "period": 2,
                                       "depth": depth}}


ONE_FULL_ONE_HALF = [_person(0.5), _jacks(1.5), _jacks(2, depth=0.4), _person(0.5)]
TWO_FULL = [_person(0.5), _jacks(3.0), _person(0.5)]
STANDING = [_person(1.0)]
SIT_UPS = [_sit_ups(4.0), _sit_ups(2.0, depth=0.4)]     # from lying: two full and a half
PASSPHRASE = "pe chart 2026"


def _play(runner: LabRunner, student_id: int, script: list[dict[str, Any]],
          monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setattr(LabRunner, "_scenario",
                        staticmethod(lambda _cls: Scenario(script).prepare()))
    monkeypatch.setattr(runner_module, "DEMO_GRACE_S", 0.3)    # nothing to wait for after
    lab = runner.start(PE, student_id=student_id, demo=True)
    deadline = time.monotonic() + 60
    while not lab.demo_done and time.monotonic() < deadline:
        time.sleep(0.02)
    assert lab.demo_done and not lab.last_error, lab.last_error
    runner.stop()
    monkeypatch.undo()
    return lab


def _highest(lab: Any, signal: str) -> int:
    return int(max(e.value for e in lab.log.entries(signal)
                   if isinstance(e.value, (int, float))))


def test_the_class_chart_shows_the_runs_in_the_store(app: Any, runtime: Any, model_store: Any,
                                                      data_dir: Path, teacher_client: Any,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    (data_dir / "models").symlink_to(model_store.models_dir, target_is_directory=True)
    store = Store.for_runtime(runtime)
    roster = store.roster
    school_class = roster.add_class("高一(3)班")
    # the roster's order is the teacher's: 学号 first, whatever the order names were added in
    zhao, qian, sun = (roster.add_student(school_class.id, n) for n in ("赵一", "钱二", "孙三"))
    for student, number in ((zhao, "03"), (qian, "01"), (sun, "02")):
        roster.set_student_no(school_class.id, student.id, number)
    order = [s.id for s in roster.students(school_class.id)]
    assert order == [qian.id, sun.id, zhao.id]
    runner = LabRunner(runtime, store, discover([(PACKAGE_LABS, "package")]),
                       clock=SimClock(2_000_000.0))
    labs = {"zhao": [_play(runner, zhao.id, ONE_FULL_ONE_HALF, monkeypatch)],   # 1 of 2
            "qian": [_play(runner, qian.id, TWO_FULL, monkeypatch),             # 2 of 2, then
                     _play(runner, qian.id, STANDING, monkeypatch)],            # none
            "sun": [_play(runner, sun.id, SIT_UPS, monkeypatch)]}               # 2 of 3 sit-ups
    # what each run kept is what its log counted, for each exercise
    kept = {r.id: r.measures for r in store.runs.for_class(school_class.id)}
    for lab in (*labs["zhao"], *labs["qian"], *labs["sun"]):
        assert kept[lab.run_id] == {"reps": _highest(lab, "jack_count"),
                                    "attempts": _highest(lab, "jack_attempts"),
                                    "sit_up_reps": _highest(lab, "situp_count"),
                                    "sit_up_attempts": _highest(lab, "situp_attempts")}
    nothing = {"sit_up_reps": 0, "sit_up_attempts": 0}
    assert kept[labs["zhao"][0].run_id] == {"reps": 1, "attempts": 2, **nothing}
    assert kept[labs["qian"][0].run_id] == {"reps": 2, "attempts": 2, **nothing}
    assert kept[labs["qian"][1].run_id] == {"reps": 0, "attempts": 0, **nothing}
    assert kept[labs["sun"][0].run_id] == {"reps": 0, "attempts": 0, "sit_up_reps": 2,
                                           "sit_up_attempts": 3}

    body = teacher_client.get(f"/api/pe/classes/{school_class.id}").get_json()
    assert body["students"] == body["exercises"]["jumping_jack"]
    for exercise, rows in body["exercises"].items():
        assert [f["student_id"] for f in rows] == order, exercise  # roster order, all of them
    figures = {exercise: {f["student_id"]: (f["best"], f["latest"], f["form_share"])
                          for f in rows} for exercise, rows in body["exercises"].items()}
    assert figures["jumping_jack"] == {zhao.id: (1, 1, 1 / 2), qian.id: (2, 0, 2 / 2),
                                       sun.id: (None, None, None)}
    assert figures["sit_up"] == {zhao.id: (None, None, None), qian.id: (None, None, None),
                                 sun.id: (2, 2, 2 / 3)}

    # each run shows its counts in the portfolio, named as the lab names them
    portfolio = teacher_client.get(f"/portfolio/classes/{school_class.id}/students/{zhao.id}"
                                   ).get_data(as_text=True)
    assert re.search(r'开合跳个数</dt><dd class="run-measure" data-measure="reps">1<', portfolio)
    assert re.search(r'data-measure="attempts">2<', portfolio)

    page = teacher_client.get(f"/teacher/classes/{school_class.id}/pe")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    charts = re.findall(r'<svg id="pe-chart-(\w+)".*?</svg>', html, re.S)
    assert charts == ["jumping_jack", "sit_up"]
    svgs = dict(re.findall(r'<svg id="pe-chart-(\w+)"(.*?)</svg>', html, re.S))

    def bars(exercise: str) -> list[tuple[str, ...]]:
        return re.findall(r'<g class="pe-student" data-student="(\d+)" data-best="(\d*)"\s+'
                          r'data-latest="(\d*)" data-share="([^"]*)"', svgs[exercise])

    assert bars("jumping_jack") == [(str(qian.id), "2", "0", "100%"), (str(sun.id), "", "", ""),
                                    (str(zhao.id), "1", "1", "50%")]
    assert bars("sit_up") == [(str(qian.id), "", "", ""), (str(sun.id), "2", "2", "67%"),
                              (str(zhao.id), "", "", "")]
    assert "仰卧起坐" in html and "开合跳" in html
    assert all("<script" not in svg for svg in svgs.values())

    # the CSV leaves the kit only through the encrypted export
    assert teacher_client.get(f"/teacher/classes/{school_class.id}/pe.csv").status_code == 409
    assert teacher_client.post("/teacher/exports/passphrase", data={
        "passphrase": PASSPHRASE, "confirm": PASSPHRASE}).status_code == 302
    locked = teacher_client.get(f"/teacher/classes/{school_class.id}/pe.csv")
    assert locked.status_code == 200 and locked.mimetype == "application/zip"
    assert "赵一".encode() not in locked.data and b"pe.csv" in locked.data
    rows = list(csv.reader(io.StringIO(
        open_encrypted_zip(locked.data, PASSPHRASE)["pe.csv"].decode("utf-8-sig"))))
    assert [row[2:] for row in rows[1:]] == [["钱二", "2", "2", "0", "2", "2", "100"],
                                             ["孙三", "0", "", "", "0", "0", ""],
                                             ["赵一", "1", "1", "1", "1", "2", "50"],
                                             ["钱二", "0", "", "", "0", "0", ""],
                                             ["孙三", "1", "2", "2", "2", "3", "67"],
                                             ["赵一", "0", "", "", "0", "0", ""]]
    assert [row[0] for row in rows[1:]] == ["开合跳"] * 3 + ["仰卧起坐"] * 3

    # a student sees their own record and nobody else's; a name picked without the picture
    # password shows only that session's runs (as the portfolio does)
    impostor = app.test_client()
    impostor.get("/")
    assert impostor.post(f"/student/classes/{school_class.id}/students/{qian.id}",
                         data={"next": "/"}, headers=_csrf(impostor)).status_code == 302
    assert impostor.get("/api/pe/mine").get_json()["student"]["runs"] == []
    student = app.test_client()
    with student.session_transaction() as session:      # the child, with their password
        session[STUDENT_KEY] = store.sessions.open("student", student_id=qian.id,
                                                   verified=True)
    mine = student.get("/api/pe/mine").get_json()
    assert mine["student"] == mine["exercises"]["jumping_jack"]
    jacks, sit_ups = mine["exercises"]["jumping_jack"], mine["exercises"]["sit_up"]
    assert (jacks["student_id"], jacks["best"], jacks["latest"], len(jacks["runs"])) == \
        (qian.id, 2, 0, 2)
    assert (sit_ups["best"], sit_ups["runs"]) == (None, [])
    own_page = student.get("/pe/mine").get_data(as_text=True)
    assert "钱二" in own_page and "赵一" not in own_page and "孙三" not in own_page
    for path in (f"/api/pe/classes/{school_class.id}", f"/teacher/classes/{school_class.id}/pe",
                 f"/teacher/classes/{school_class.id}/pe.csv"):
        r = student.get(path)
        assert r.status_code in (302, 401, 403), (path, r.status_code)
        assert "赵一" not in r.get_data(as_text=True)
    assert student.get("/api/pe/classes/99999").status_code in (401, 403)
    assert teacher_client.get("/api/pe/classes/99999").status_code == 404


def _csrf(client: Any) -> dict[str, str]:
    html = client.get("/").get_data(as_text=True)
    return {"X-CSRFToken": re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)}


def test_the_class_chart_has_the_runs_collected_from_other_kits(runtime: Any, data_dir: Path,
                                                                teacher_client: Any,
                                                                tmp_path: Path) -> None:
    """On a lead kit, the class's PE runs done on a member kit (as last collected) are in the
    chart beside its own, each once, named by their kit."""
    from labkit.fleet import records
    from labkit.fleet.state import RoomState

    lead = Store.for_runtime(runtime)
    school_class = lead.roster.add_class("高一(3)班")
    wang = lead.roster.add_student(school_class.id, "王芳")
    member = Store(tmp_path / "member")
    try:
        records.apply_roster(member, records.roster_payload(lead, school_class.id))
        theirs = member.roster.students(member.roster.classes()[0].id)[0]
        run = member.runs.start(theirs.id, lesson_id=PE, project_id=PE, steps_total=3)
        member.runs.record_measures(run, {"reps": 0, "attempts": 0, "sit_up_reps": 6,
                                          "sit_up_attempts": 8})
        member.runs.end(run, "finished")
        collected = records.export_records(member)
        member_id = member.kit_id
    finally:
        member.close()
    own = lead.runs.start(wang.id, lesson_id=PE, project_id=PE, steps_total=3)
    lead.runs.record_measures(own, {"reps": 0, "attempts": 0, "sit_up_reps": 3,
                                    "sit_up_attempts": 3})
    lead.runs.end(own, "finished")
    state = RoomState(data_dir)
    state.save_collected(member_id, collected)
    state.save_collected(member_id, collected)             # collected again: replaced
    body = teacher_client.get(f"/api/pe/classes/{school_class.id}").get_json()["exercises"]
    (sit_ups,) = body["sit_up"]
    assert sorted((r["kit"], r["reps"]) for r in sit_ups["runs"]) == [("", 3), (member_id, 6)]
    assert (sit_ups["best"], sit_ups["form_share"]) == (6, 9 / 11)
    assert body["jumping_jack"][0]["runs"] == []
    page = teacher_client.get(f"/teacher/classes/{school_class.id}/pe").get_data(as_text=True)
    assert re.search(r'id="pe-other-kits">[^<]*' + member_id[:8], page)
