"""A semester plan next to what a class has done: for each planned lab, whether a lesson
(class session) opened it this term and how many of the class's students finished it.

Plain data in, plain data out (the web page and the tests both call it): the plans come from
`labkit.curriculum`, the sessions and runs from the store, already limited to one class and
one term by the caller.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable

from labkit.curriculum import Curriculum


@dataclass
class PlannedLab:
    week: int
    lab_id: str
    done_at: float | None = None     # the first lesson of the term that opened it
    lessons: int = 0                 # lessons that opened it
    finished: int = 0                # students of the class who finished it


@dataclass
class SemesterProgress:
    band: str
    semester_id: str
    title: Any                       # bilingual, as in the plan
    weeks: int
    labs: list[PlannedLab] = field(default_factory=list)
    unplanned: list[str] = field(default_factory=list)   # opened in lessons, not in the plan

    @property
    def done(self) -> int:
        return sum(1 for lab in self.labs if lab.done_at is not None)


def semesters_for(cur: Curriculum, grade: int, term_kind: str) -> list[tuple[Any, dict]]:
    """(plan, semester) for this grade and kind of term ("autumn" | "spring")."""
    found = []
    for plan in cur.plans.values():
        for semester in plan.semesters:
            first, last = semester["grades"]
            if first <= grade <= last and semester.get("term") == term_kind:
                found.append((plan, semester))
    return found


def plan_progress(cur: Curriculum, grade: int, term_kind: str,
                  sessions: Iterable[tuple[float, Iterable[str]]],
                  finished_by_lab: dict[str, int]) -> list[SemesterProgress]:
    """`sessions`: (started_at, lab ids) of the class's lessons this term;
    `finished_by_lab`: {lab id: students of the class who finished it this term}."""
    opened: dict[str, list[float]] = {}
    for started_at, labs in sessions:
        for lab in labs:
            opened.setdefault(lab, []).append(started_at)
    out = []
    for plan, semester in semesters_for(cur, grade, term_kind):
        progress = SemesterProgress(plan.band, semester["id"], semester.get("title"),
                                    int(plan.data.get("weeks", 0)))
        planned = set()
        for item in sorted(semester["lessons"], key=lambda x: (x["week"], x["lesson"])):
            lab = item["lesson"]
            planned.add(lab)
            times = sorted(opened.get(lab, []))
            progress.labs.append(PlannedLab(int(item["week"]), lab,
                                            times[0] if times else None, len(times),
                                            finished_by_lab.get(lab, 0)))
        progress.unplanned = sorted(set(opened) - planned)
        out.append(progress)
    return out
