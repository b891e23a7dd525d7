"""The implementation report's data: hours against the targets per grade, labs completed,
rubric distributions, records from several kits counted once by UUID."""

from __future__ import annotations

from labkit.store.report import (RunRecord, ScoreRecord, SessionRecord, Target,
                                 implementation_report, target_for)


def _sessions(kit: str, cls: str, grade: int, n: int, **kw: object) -> list[SessionRecord]:
    return [SessionRecord(f"{cls}-s{i}", kit, cls, cls, grade, 1000.0 + i, **kw)
            for i in range(n)]


def test_targets_by_grade() -> None:
    assert target_for(1, 20) == Target("hours", 3)
    assert target_for(5, 20) == Target("hours", 10) and target_for(5, 19) == Target("hours", 10)
    assert target_for(11, 20) == Target("cross_disciplinary", 1)
    assert target_for(9, 20).kind == "none"


def test_hours_against_targets_and_duplicates_collected_twice() -> None:
    a = _sessions("kit-a", "一年级一班", 1, 3)
    b = _sessions("kit-b", "四年级二班", 4, 4)
    h = _sessions("kit-a", "高一(3)班", 10, 2, cross_disciplinary=False) + \
        [SessionRecord("h-x", "kit-b", "高一(3)班", "高一(3)班", 10, 5.0, cross_disciplinary=True)]
    classes, grades = implementation_report(a + b + a + h, [], [])   # kit A's twice
    by_name = {c.class_name: c for c in classes}
    assert by_name["一年级一班"].hours == 3 and by_name["一年级一班"].met is True
    assert by_name["四年级二班"].met is False and by_name["四年级二班"].delivered == 4
    assert by_name["高一(3)班"].delivered == 1 and by_name["高一(3)班"].met is True
    assert grades[1].classes_met == 1 and grades[4].classes_met == 0 and grades[4].hours == 4


def test_labs_completed_and_rubric_distribution() -> None:
    sessions = _sessions("kit-a", "c1", 3, 1)
    runs = [RunRecord("r1", "kit-a", "c1", "stu1", "face_led", "finished"),
            RunRecord("r2", "kit-a", "c1", "stu1", "face_led", "finished"),   # same child again
            RunRecord("r3", "kit-b", "c1", "stu2", "face_led", "finished"),
            RunRecord("r4", "kit-b", "c1", "stu3", "face_led", "stopped"),
            RunRecord("r3", "kit-b", "c1", "stu2", "face_led", "finished")]   # collected twice
    scores = [ScoreRecord("r1", "observe", 2, 4), ScoreRecord("r3", "observe", 3, 4),
              ScoreRecord("r3", "observe", 3, 4), ScoreRecord("r4", "observe", 1, 4),
              ScoreRecord("gone", "observe", 4, 4)]
    (c1,), _grades = implementation_report(sessions, runs, scores)
    assert c1.labs_completed == {"face_led": 2}
    assert c1.rubric == {"observe": {1: 1, 2: 1, 3: 1}}
