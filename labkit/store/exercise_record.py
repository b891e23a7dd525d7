"""A class's exercise record: each student's counted reps, from the runs in the portfolio.

A lab that counts exercise (the PE assessment, `labkit/labs/creative/pe_assessment`) declares
`record: {reps: …, attempts: …}`: when a student's run ends, the runner keeps the run's count
of reps done with good form and of movements made, counted or not (`run_measures`). From those
rows alone, per student:

    best        the highest count of one run
    latest      the count of the newest run
    reps, attempts   over every run, so `form_share` = reps / attempts is the share of
                movements done with good form (None when no movement was seen: not 0 %)

A run still going, or one from before the lab kept a record, has no measures and is not a
run here. Students come in the roster's order, each whether they ran the lab or not.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from labkit.store.roster import Student
from labkit.store.runs import Run


@dataclass(frozen=True)
class RecordedRun:
    run_id: int
    started_at: float
    reps: int
    attempts: int


@dataclass(frozen=True)
class StudentRecord:
    student: Student
    runs: tuple[RecordedRun, ...]          # newest first

    @property
    def best(self) -> int | None:
        return max((r.reps for r in self.runs), default=None)

    @property
    def latest(self) -> int | None:
        return self.runs[0].reps if self.runs else None

    @property
    def reps(self) -> int:
        return sum(r.reps for r in self.runs)

    @property
    def attempts(self) -> int:
        # a rep is always a movement: a run that lost its movement count still counts its reps
        return sum(max(r.attempts, r.reps) for r in self.runs)

    @property
    def form_share(self) -> float | None:
        return self.reps / self.attempts if self.attempts else None

    def as_dict(self) -> dict[str, object]:
        return {"student_id": self.student.id, "name": self.student.name,
                "student_no": self.student.student_no, "best": self.best,
                "latest": self.latest, "reps": self.reps, "attempts": self.attempts,
                "form_share": self.form_share,
                "runs": [{"run_id": r.run_id, "started_at": r.started_at, "reps": r.reps,
                          "attempts": r.attempts} for r in self.runs]}


def recorded(run: Run) -> RecordedRun | None:
    """The run's record, or None if it kept none (still going, or older than the record)."""
    if "reps" not in run.measures:
        return None
    return RecordedRun(run.id, run.started_at, int(run.measures["reps"]),
                       int(run.measures.get("attempts", run.measures["reps"])))


def class_record(students: Iterable[Student], runs: Iterable[Run],
                 project_id: str) -> list[StudentRecord]:
    """One record per student (in the order given), from their runs of lab `project_id`."""
    by_student: dict[int, list[RecordedRun]] = {}
    for run in runs:
        if run.project_id != project_id:
            continue
        rec = recorded(run)
        if rec is not None:
            by_student.setdefault(run.student_id, []).append(rec)
    out = []
    for student in students:
        mine = sorted(by_student.get(student.id, ()), key=lambda r: (r.started_at, r.run_id),
                      reverse=True)
        out.append(StudentRecord(student, tuple(mine)))
    return out
