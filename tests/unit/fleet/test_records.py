"""Records between kits: a kit's export, a roster copied with the lead's UUIDs (twice changes
nothing), the merged export counting each run once, and records of the wrong shape refused."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from labkit.fleet import records
from labkit.store import Problem, Store


@pytest.fixture
def lead(tmp_path: Path):
    s = Store(tmp_path / "lead")
    yield s
    s.close()


@pytest.fixture
def kit(tmp_path: Path):
    s = Store(tmp_path / "kit")
    yield s
    s.close()


def test_a_roster_is_copied_with_the_leads_uuids(lead: Store, kit: Store) -> None:
    cls = lead.roster.add_class("三年级二班")
    lead.roster.add_students(cls.id, ["王芳", "李雷"], ["1", "2"])
    payload = records.roster_payload(lead, cls.id)
    assert records.apply_roster(kit, payload) == {"classes_added": 1, "students_added": 2,
                                                  "students_total": 2}
    assert records.apply_roster(kit, payload)["students_added"] == 0
    kit_cls = kit.roster.classes()[0]
    assert kit.identity.uuid("classes", kit_cls.id) == payload["class"]["uuid"]
    got = {s.name: (s.student_no, kit.identity.uuid("students", s.id))
           for s in kit.roster.students(kit_cls.id)}
    assert got == {p["name"]: (p["student_no"], p["uuid"]) for p in payload["students"]}


def test_a_roster_joins_a_class_of_the_same_name_and_keeps_its_students(lead: Store,
                                                                       kit: Store) -> None:
    cls = kit.roster.add_class("三年级二班")
    kit.roster.add_students(cls.id, ["王芳"], ["1"])
    lcls = lead.roster.add_class("三年级二班")
    lead.roster.add_students(lcls.id, ["王芳", "赵敏"], ["1", "1x"])
    out = records.apply_roster(kit, records.roster_payload(lead, lcls.id))
    assert out == {"classes_added": 0, "students_added": 1, "students_total": 2}


@pytest.mark.parametrize("payload", [None, {}, {"class": {"name": "x"}, "students": "no"},
                                     {"class": {"name": "x"}, "students": [1]}])
def test_a_bad_roster_is_refused(kit: Store, payload: object) -> None:
    with pytest.raises(Problem):
        records.apply_roster(kit, payload)


def test_merge_counts_each_run_once(lead: Store, kit: Store) -> None:
    cls = lead.roster.add_class("一班")
    lead.roster.add_students(cls.id, ["王芳"], ["7"])
    records.apply_roster(kit, records.roster_payload(lead, cls.id))
    student = kit.roster.students(kit.roster.classes()[0].id)[0]
    run = kit.runs.start(student.id, lesson_id="clap_lamp", project_id="clap_lamp",
                         steps_total=2)
    kit.runs.record_step(run, "clap", "clap_heard")
    kit.runs.end(run, "finished")
    out = records.export_records(kit)
    assert records.records_ok(out)
    rows = records.merge([records.export_records(lead), out, out])
    assert len(rows) == 1
    assert rows[0]["student"] == "王芳" and rows[0]["class"] == "一班"
    assert rows[0]["steps_passed"] == 1 and rows[0]["kit"] == kit.kit_id
    text = records.merged_csv(rows).decode("utf-8-sig")
    assert list(csv.DictReader(io.StringIO(text)))[0]["run_uuid"] == out["runs"][0]["uuid"]


def test_records_of_the_wrong_shape_are_refused(kit: Store) -> None:
    good = records.export_records(kit)
    assert records.records_ok(good)
    for bad in (None, [], {**good, "format": 2}, {**good, "runs": [{"uuid": 1}]},
                {**good, "classes": "x"}):
        assert not records.records_ok(bad)


def test_a_formula_in_a_name_is_not_run_by_a_spreadsheet() -> None:
    row = {c: "" for c in records.CSV_COLUMNS}
    row["student"] = "=cmd()"
    text = records.merged_csv([row]).decode("utf-8-sig")
    assert "'=cmd()" in text


def _pe_run(store: Store, student_id: int, measures: dict[str, float]) -> int:
    """A PE assessment run as the kit's runner keeps it: its steps, then its measures."""
    run = store.runs.start(student_id, lesson_id="pe_assessment", project_id="pe_assessment",
                           steps_total=3)
    store.runs.record_measures(run, measures)
    store.runs.end(run, "finished")
    return run


def test_collected_runs_carry_their_measures_into_the_leads_pe_record(lead: Store,
                                                                     kit: Store) -> None:
    from labkit.store.exercise_record import class_record

    cls = lead.roster.add_class("高一(3)班")
    wang, li = lead.roster.add_students(cls.id, ["王芳", "李雷"], ["1", "2"])
    records.apply_roster(kit, records.roster_payload(lead, cls.id))
    on_kit = {s.name: s.id for s in kit.roster.students(kit.roster.classes()[0].id)}
    _pe_run(lead, wang.id, {"reps": 2, "attempts": 2, "sit_up_reps": 0, "sit_up_attempts": 0})
    _pe_run(kit, on_kit["王芳"], {"reps": 5, "attempts": 6, "sit_up_reps": 0,
                                  "sit_up_attempts": 0})
    _pe_run(kit, on_kit["李雷"], {"reps": 0, "attempts": 0, "sit_up_reps": 4,
                                  "sit_up_attempts": 5})
    out = records.export_records(kit)
    assert records.records_ok(out)
    assert sorted(r["measures"]["reps"] for r in out["runs"]) == [0, 5]
    # collected twice, and the lead's own records among them: each run once
    collections = [out, out, records.export_records(lead)]
    elsewhere = records.collected_measured_runs(collections, lead, cls.id, "pe_assessment")
    assert sorted((sid, r.exercise, r.reps, r.attempts, r.kit) for sid, r in elsewhere) == \
        sorted([(wang.id, "jumping_jack", 5, 6, kit.kit_id),
                (li.id, "sit_up", 4, 5, kit.kit_id)])
    students, runs = lead.roster.students(cls.id), lead.runs.for_class(cls.id)
    jacks = class_record(students, runs, "pe_assessment", "jumping_jack", elsewhere=elsewhere)
    sit_ups = class_record(students, runs, "pe_assessment", "sit_up", elsewhere=elsewhere)
    assert [(r.student.name, r.best, len(r.runs), r.kits) for r in jacks] == \
        [("王芳", 5, 2, (kit.kit_id,)), ("李雷", None, 0, ())]
    assert [(r.student.name, r.best, r.form_share) for r in sit_ups] == \
        [("王芳", None, None), ("李雷", 4, 4 / 5)]
    # another class of the lead gets none of them
    other = lead.roster.add_class("高一(4)班")
    assert records.collected_measured_runs(collections, lead, other.id, "pe_assessment") == []


def test_a_roster_typed_on_the_kit_is_matched_by_name_and_old_records_still_read(
        lead: Store, kit: Store) -> None:
    cls = lead.roster.add_class("高一(3)班")
    wang = lead.roster.add_students(cls.id, ["王芳"], ["1"])[0]
    typed = kit.roster.add_class("高一(3)班")                 # not copied: other UUIDs
    _pe_run(kit, kit.roster.add_students(typed.id, ["王芳"], ["1"])[0].id,
            {"reps": 3, "attempts": 3})
    out = records.export_records(kit)
    found = records.collected_measured_runs([out], lead, cls.id, "pe_assessment")
    assert [(sid, r.reps) for sid, r in found] == [(wang.id, 3)]
    # a kit older than the measures sends runs without them: they are not PE records
    old = {**out, "runs": [{k: v for k, v in r.items() if k not in ("measures", "project_id")}
                           for r in out["runs"]]}
    assert records.records_ok(old)
    assert records.collected_measured_runs([old], lead, cls.id, "pe_assessment") == []
    for bad in ({"reps": "3"}, {"reps": True}, ["reps"]):
        assert not records.records_ok({**out, "runs": [{**out["runs"][0], "measures": bad}]})
