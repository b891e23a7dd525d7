"""Kit controls through the real app: a new term (typed confirmation; rosters, runs, portfolio,
showcase and /learn projects removed; PIN, packs, models, kit id and lessons-given kept; in
well under 10 s for two full classes), switching off and restarting (teacher or the kit
itself; recorded by the simulated twin; constant argv on a real kit)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from labkit.drivers import power as power_mod
from labkit.learn.dataset import ProjectStore
from tests.security.web_helpers import LAPTOP, PIN, browser, store_of, student, teacher

KIOSK = {"REMOTE_ADDR": "127.0.0.1"}


def _fill_term(app: Any, settings: Any, students: int = 40) -> dict[str, Any]:
    store = store_of(app)
    made: dict[str, Any] = {"classes": [], "students": []}
    for name, grade in (("三年级一班", 3), ("初一(2)班", 7)):
        cls = store.roster.add_class(name)
        store.classroom.set_grade(cls.id, grade)
        kids = store.roster.add_students(cls.id, [f"{name}{i:02d}" for i in range(students)],
                                         [str(i + 1) for i in range(students)])
        made["classes"].append(cls)
        made["students"] += kids
        session = store.classroom.start(cls.id, ["face_led"])
        for kid in kids:
            run = store.runs.start(kid.id, lesson_id="face_led", project_id="face_led",
                                   steps_total=3)
            store.runs.record_step(run, "look", "face_seen")
        store.artefacts.save(run, "sample", "照片", b"\xff\xd8jpeg" * 10, ".jpg")
        if grade == 7:
            store.classroom.end(session.id)
    learn = ProjectStore(settings.data_dir)
    for i in range(3):
        learn.create(f"项目{i}", "image", ["猫", "狗"], owner=made["students"][i].id)
    (settings.data_dir / "showcase" / "1").mkdir(parents=True)
    (settings.data_dir / "showcase" / "1" / "1.json").write_text("{}")
    for kept in ("models/manifest.json", "labs/experience/my_lab/lab.yaml", "packs/keys.txt"):
        path = settings.data_dir / kept
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("kept")
    return made


def test_a_new_term_needs_the_typed_word(app: Any, settings: Any) -> None:
    made = _fill_term(app, settings, students=2)
    client = teacher(app, **LAPTOP)
    for word in ("", "reset please", "yes"):
        r = client.post("/teacher/kit/reset", data={"confirm": word}, follow_redirects=True)
        assert "flash-error" in r.get_data(as_text=True)
    assert len(store_of(app).roster.classes()) == len(made["classes"])
    kid = student(app, made["students"][0])
    assert kid.post("/teacher/kit/reset", data={"confirm": "重置"}).status_code == 401
    assert len(store_of(app).roster.classes()) == 2


@pytest.mark.slow   # two full classes (80 students, their runs) written first, to time the reset
def test_a_new_term_removes_the_terms_work_and_keeps_the_kit(app: Any, settings: Any) -> None:
    _fill_term(app, settings)
    store = store_of(app)
    kit_id = store.kit_id
    client = teacher(app, **LAPTOP)
    started = time.monotonic()
    r = client.post("/teacher/kit/reset", data={"confirm": "重置"})
    took = time.monotonic() - started
    assert r.status_code == 302 and r.headers["Location"].endswith("/")
    assert took < 10.0, f"a reset took {took:.1f} s"
    for table in ("classes", "students", "runs", "step_results", "artefacts"):
        assert store.db.one(f"SELECT COUNT(*) AS n FROM {table}")["n"] == 0, table
    data = Path(settings.data_dir)
    assert [p for p in (data / "portfolio").rglob("*") if p.is_file()] == []
    assert list((data / "showcase").iterdir()) == []
    assert ProjectStore(data).list() == []
    for kept in ("models/manifest.json", "labs/experience/my_lab/lab.yaml", "packs/keys.txt",
                 "portfolio.key"):
        assert (data / kept).exists(), kept
    assert store.kit_id == kit_id and store.pin.verify(PIN)
    sessions = store.classroom.sessions()
    assert len(sessions) == 2 and all(not s.running and s.class_id is None for s in sessions)
    assert client.get("/teacher").status_code == 200          # the teacher stays signed in
    assert "new-class" in client.get("/teacher").get_data(as_text=True)
    again = client.post("/teacher/kit/reset", data={"confirm": "RESET"})   # nothing left: fine
    assert again.status_code == 302


def test_switching_off_and_restarting_are_recorded_in_simulation(app: Any) -> None:
    runtime = app.extensions["labkit"]
    teacher_laptop = teacher(app, **LAPTOP)
    r = teacher_laptop.post("/teacher/kit/poweroff")
    assert r.status_code == 200 and "关" in r.get_data(as_text=True)
    kiosk = browser(app, **KIOSK)                        # the kit's own screen, no PIN
    assert kiosk.get("/teacher/kit").status_code == 200
    assert "kit-reset" not in kiosk.get("/teacher/kit").get_data(as_text=True)
    assert kiosk.post("/teacher/kit/reboot").status_code == 200
    sim = runtime.services["power"]
    assert isinstance(sim, power_mod.SimulatedPower)
    assert [a for a, _t in sim.requests] == ["poweroff", "reboot"]
    laptop = browser(app, **LAPTOP)                      # anyone else on the network: refused
    assert laptop.post("/teacher/kit/poweroff").status_code == 401
    no_csrf = app.test_client()
    no_csrf.environ_base.update(KIOSK)
    assert no_csrf.post("/teacher/kit/reboot").status_code == 400
    assert [a for a, _t in sim.requests] == ["poweroff", "reboot"]


def test_a_real_kit_runs_one_of_two_constant_commands(monkeypatch: pytest.MonkeyPatch) -> None:
    ran: list[list[str]] = []
    monkeypatch.setattr(power_mod.subprocess, "run",
                        lambda argv, **kw: ran.append(list(argv)))
    switch = power_mod.SystemPower(delay_s=0.0)
    switch._run(power_mod._argv("poweroff"))
    switch._run(power_mod._argv("reboot"))
    assert ran == [["systemctl", "poweroff"], ["systemctl", "reboot"]]
    for bad in ("halt", "--force", "poweroff; rm -rf /", ""):
        with pytest.raises(ValueError):
            switch.request(bad)
        with pytest.raises(ValueError):
            power_mod.SimulatedPower().request(bad)
    assert isinstance(power_mod.power_for("real"), power_mod.SystemPower)
    assert isinstance(power_mod.power_for("sim"), power_mod.SimulatedPower)
