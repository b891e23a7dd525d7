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
