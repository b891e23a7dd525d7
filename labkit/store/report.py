"""The implementation report (实施评价) as data: class hours delivered against the targets, labs
completed and rubric distributions, per class and per grade.

The function takes plain records (class sessions, runs, rubric scores), each with the kit id
and its UUID, so the same code reports on one kit or on every kit of a room: records collected
twice from the same kit count once (deduplicated by UUID). It reads no database and no clock.

Targets (from the brief for schools): grades 1–2 at least 3 AI class hours a semester; grades
3–8 at least one every two weeks; high school (grades 10–12) at least one cross-disciplinary
practice a semester. A grade with no stated target (9) is reported with none.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Iterable, TypeVar

R = TypeVar("R")


@dataclass(frozen=True)
class SessionRecord:
    """One lesson given to a class (a class session: what the report counts)."""
    uuid: str
    kit_id: str
    class_uuid: str
    class_name: str
    grade: int
    started_at: float
    class_hours: float = 1.0
    lab_ids: tuple[str, ...] = ()
    cross_disciplinary: bool = False


@dataclass(frozen=True)
class RunRecord:
    uuid: str
    kit_id: str
    class_uuid: str
    student_uuid: str
    lesson_id: str
    status: str


@dataclass(frozen=True)
class ScoreRecord:
    run_uuid: str
    criterion: str
    level: int
    max_level: int


@dataclass(frozen=True)
class Target:
    kind: str            # "hours" | "cross_disciplinary" | "none"
    needed: float


def target_for(grade: int, semester_weeks: int) -> Target:
    if grade in (1, 2):
        return Target("hours", 3)
    if 3 <= grade <= 8:
        return Target("hours", math.ceil(semester_weeks / 2))
    if 10 <= grade <= 12:
        return Target("cross_disciplinary", 1)
    return Target("none", 0)


@dataclass
class ClassReport:
    class_uuid: str
    class_name: str
    grade: int
    sessions: int = 0
    hours: float = 0.0
    cross_disciplinary: int = 0
    target: Target = field(default_factory=lambda: Target("none", 0))
    labs_completed: dict[str, int] = field(default_factory=dict)   # lab → finished students
    rubric: dict[str, dict[int, int]] = field(default_factory=dict)  # criterion → level → n
    kits: tuple[str, ...] = ()        # the kits the class's lessons were given on

    @property
    def delivered(self) -> float:
        return self.cross_disciplinary if self.target.kind == "cross_disciplinary" else self.hours

    @property
    def met(self) -> bool | None:
        return None if self.target.kind == "none" else self.delivered >= self.target.needed


@dataclass
class GradeReport:
    grade: int
    target: Target
    classes: int = 0
    classes_met: int = 0
    hours: float = 0.0


def _unique(records: Iterable[R], key: str) -> list[R]:
    """The first record of each UUID (the same record collected from a kit twice)."""
    seen: dict[object, R] = {}
    for record in records:
        seen.setdefault(getattr(record, key), record)
    return list(seen.values())


def implementation_report(sessions: Iterable[SessionRecord], runs: Iterable[RunRecord],
                          scores: Iterable[ScoreRecord], *, semester_weeks: int = 20,
                          ) -> tuple[list[ClassReport], dict[int, GradeReport]]:
    """(classes by grade and name, {grade: totals}) over deduplicated records."""
    classes: dict[str, ClassReport] = {}
    kits: dict[str, set[str]] = defaultdict(set)
    for s in _unique(sessions, "uuid"):
        kits[s.class_uuid].add(s.kit_id)
        report = classes.setdefault(s.class_uuid, ClassReport(
            s.class_uuid, s.class_name, s.grade, target=target_for(s.grade, semester_weeks)))
        report.sessions += 1
        report.hours += s.class_hours
        report.cross_disciplinary += int(s.cross_disciplinary)
    unique_runs = _unique(runs, "uuid")
    finished: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    class_of_run = {}
    for r in unique_runs:
        class_of_run[r.uuid] = r.class_uuid
        if r.status == "finished":
            finished[r.class_uuid][r.lesson_id].add(r.student_uuid)
    rubric: dict[str, dict[str, Counter[int]]] = defaultdict(lambda: defaultdict(Counter))
    for sc in {(s.run_uuid, s.criterion): s for s in scores}.values():
        cls = class_of_run.get(sc.run_uuid)
        if cls is not None:
            rubric[cls][sc.criterion][sc.level] += 1
    for uuid, report in classes.items():
        report.kits = tuple(sorted(kits[uuid]))
        report.labs_completed = {lab: len(who) for lab, who in sorted(finished[uuid].items())}
        report.rubric = {c: dict(sorted(levels.items()))
                         for c, levels in sorted(rubric[uuid].items())}
    ordered = sorted(classes.values(), key=lambda c: (c.grade, c.class_name))
    grades: dict[int, GradeReport] = {}
    for report in ordered:
        g = grades.setdefault(report.grade, GradeReport(report.grade, report.target))
        g.classes += 1
        g.classes_met += int(bool(report.met))
        g.hours += report.hours
    return ordered, grades
