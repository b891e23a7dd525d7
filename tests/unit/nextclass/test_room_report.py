"""The implementation report across the room: the class sessions, runs and rubric levels
collected from a member kit (its real export_records, taken twice) merged with this kit's by
UUID — a lesson collected twice counts once — with a column naming the kits; this kit alone
without `?room=1`; a collected file of the wrong shape is left out."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from openpyxl import load_workbook

from labkit import steady
from labkit.fleet import records
from labkit.fleet.state import RoomState
from labkit.store import Store
from labkit.store.classroom import term_of
from tests.security.web_helpers import LAPTOP, store_of, teacher


def _member_records(lead: Store, class_id: int, data_dir: Path) -> dict[str, Any]:
    """A member kit that got the lead's roster, gave two lessons and graded one run."""
    member = Store(data_dir)
    try:
        records.apply_roster(member, records.roster_payload(lead, class_id))
        cls, = member.roster.classes()
        member.classroom.set_grade(cls.id, 3)
        for hours in (1.0, 2.0):
            member.classroom.end(member.classroom.start(cls.id, ["plant_corner"],
                                                        class_hours=hours).id)
        kid = member.roster.students(cls.id)[0]
        run = member.runs.start(kid.id, lesson_id="plant_corner", project_id="plant_corner",
                                steps_total=1)
        member.runs.finish(run, question="q", answer="a", self_scores={})
        member.runs.set_scores(run, "teacher", {"observe": (3, 3)})
        return records.export_records(member)
    finally:
        member.close()


def test_the_room_report_merges_the_collected_kits(app: Any, settings: Any,
                                                   tmp_path: Path) -> None:
    lead = store_of(app)
    cls = lead.roster.add_class("三年级一班")
    lead.classroom.set_grade(cls.id, 3)
    lead.roster.add_students(cls.id, ["王芳", "李雷"], ["1", "2"])
    lead.classroom.end(lead.classroom.start(cls.id, ["plant_corner"]).id)
    other = lead.roster.add_class("初一(2)班")
    lead.classroom.set_grade(other.id, 7)
    collected = _member_records(lead, cls.id, tmp_path / "member")
    assert records.records_ok(collected) and len(collected["sessions"]) == 2
    state = RoomState(settings.data_dir)
    state.add_member(collected["kit_id"], name="二号机", address="192.0.2.20:8080")
    for _twice in range(2):
        state.save_collected(collected["kit_id"], collected)
    # a copy of the same lessons under another file, and a file of the wrong shape
    state.save_collected("copy", {**collected})
    state.save_collected("broken", {"format": 1, "kit_id": "x", "sessions": "nope"})
    client = teacher(app, **LAPTOP)
    term = term_of(steady.now())

    alone = client.get(f"/teacher/report?term={term}").get_data(as_text=True)
    assert 'id="sum-lessons">1<' in alone and 'id="report-room-link"' in alone
    html = client.get(f"/teacher/report?term={term}&room=1").get_data(as_text=True)
    assert 'id="report-room"' in html
    assert 'id="sum-lessons">3<' in html and 'id="sum-hours">4<' in html
    assert "二号机" in html and 'class="report-kits"' in html

    r = client.get(f"/teacher/report.csv?term={term}&room=1&plain=understood")
    assert r.status_code == 200
    rows = list(csv.reader(io.StringIO(r.data.decode("utf-8-sig"))))
    header, body = rows[1], rows[2:rows.index([])]
    assert header[-1] == "AI 小盒子"
    row, = [x for x in body if x[3] == "三年级一班"]   # one class: the roster kept its UUID
    assert row[4] == "3" and row[5] == "4.0" and row[9] == "1"
    assert set(row[-1].split("、")) == {"二号机", state.name()}
    assert "plant_corner" in row[10] or "植物" in row[10]
    xlsx = client.get(f"/teacher/report.xlsx?term={term}&room=1&plain=understood")
    sheet = load_workbook(io.BytesIO(xlsx.data)).worksheets[0]
    assert sheet.cell(row=1, column=len(header)).value == "AI 小盒子"
    alone_csv = client.get(f"/teacher/report.csv?term={term}&plain=understood").data
    assert alone_csv.count("AI 小盒子".encode()) == 0


def test_collected_sessions_are_checked_and_optional() -> None:
    older = {"format": 1, "kit_id": "k", "classes": [], "students": [], "runs": []}
    assert records.records_ok(older)            # a kit from before sessions travelled
    good = {"uuid": "s1", "class_uuid": "c1", "class_name": "一班", "grade": 3,
            "started_at": 1.0, "class_hours": 1.0, "lab_ids": ["plant_corner"],
            "cross_disciplinary": False}
    assert records.records_ok({**older, "sessions": [good]})
    for bad in ({**good, "grade": True}, {**good, "lab_ids": [3]},
                {**good, "cross_disciplinary": "no"}, {**good, "uuid": None}):
        assert not records.records_ok({**older, "sessions": [bad]}), bad
    assert not records.records_ok({**older, "sessions": {}})
    taken = records.room_report_records([{**older, "sessions": [good]}], 0.0, 2.0)
    assert [s.uuid for s in taken[0]] == ["s1"] and taken[0][0].kit_id == "k"
    assert records.room_report_records([{**older, "sessions": [good]}], 2.0, 3.0)[0] == []
