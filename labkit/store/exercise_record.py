"""A class's exercise record: each student's counted reps, from the runs in the portfolio.

A lab that counts exercise (the PE assessment, `labkit/labs/creative/pe_assessment`) declares
`record: {reps: …, attempts: …}`: when a student's run ends, the runner keeps the run's count
of reps done with good form and of movements made, counted or not (`run_measures`). The PE
lab counts two exercises, each under its own names (`EXERCISES`: jumping jacks keep `reps` and
`attempts`, the names they had before sit-ups were counted). A run is a run of each exercise
it made a movement of — the one the student chose, or both — and a run that saw no movement
at all is a run of the first exercise that counted nothing. From those rows alone, per
student and exercise:

    best        the highest count of one run
    latest      the count of the newest run
    reps, attempts   over every run, so `form_share` = reps / attempts is the share of
                movements done with good form (None when no movement was seen: not 0 %)

A run still going, or one from before the lab kept a record, has no measures and is not a
run here. Students come in the roster's order, each whether they ran the lab or not.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Mapping

from labkit.store.roster import Student
from labkit.store.runs import Run

#: exercise → the run measures its reps and its movements are kept under
EXERCISES: dict[str, tuple[str, str]] = {"jumping_jack": ("reps", "attempts"),
                                         "sit_up": ("sit_up_reps", "sit_up_attempts")}
FIRST_EXERCISE = "jumping_jack"


@dataclass(frozen=True)
class RecordedRun:
    run_id: int
    started_at: float
    reps: int
    attempts: int
    exercise: str = FIRST_EXERCISE
    kit: str = ""          # the kit the run was done on: "" for this kit (labkit/fleet)
    uuid: str = ""         # the run's UUID, for a run collected from another kit


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
                          "attempts": r.attempts, "kit": r.kit, "uuid": r.uuid}
                         for r in self.runs]}

    @property
    def kits(self) -> tuple[str, ...]:
        """The other kits some of these runs were done on (ids, in the order first seen)."""
        return tuple(dict.fromkeys(r.kit for r in self.runs if r.kit))


def exercises_of(measures: Mapping[str, float]) -> tuple[str, ...]:
    """The exercises a run's measures are a record of (see the module's docstring)."""
    kept = [name for name, (reps, _moves) in EXERCISES.items() if reps in measures]
    moved = [name for name in kept
             if any(measures.get(m, 0) > 0 for m in EXERCISES[name])]
    if moved:
        return tuple(moved)
    return (FIRST_EXERCISE,) if FIRST_EXERCISE in kept else tuple(kept[:1])


def record_of(measures: Mapping[str, float], exercise: str, *, run_id: int, started_at: float,
              kit: str = "", uuid: str = "") -> RecordedRun | None:
    """A run's record of `exercise` from its measures, or None if it kept none (still going,
    older than the record, or a run of the other exercise)."""
    if exercise not in exercises_of(measures):
        return None
    reps_name, moves_name = EXERCISES[exercise]
    reps = measures[reps_name]
    return RecordedRun(run_id, started_at, int(reps), int(measures.get(moves_name, reps)),
                       exercise, kit, uuid)


def recorded(run: Run, exercise: str = FIRST_EXERCISE) -> RecordedRun | None:
    """This kit's run's record of `exercise` (see `record_of`)."""
    return record_of(run.measures, exercise, run_id=run.id, started_at=run.started_at)


def class_record(students: Iterable[Student], runs: Iterable[Run], project_id: str,
                 exercise: str = FIRST_EXERCISE, *,
                 elsewhere: Iterable[tuple[int, RecordedRun]] = ()) -> list[StudentRecord]:
    """One record per student (in the order given), from their runs of lab `project_id` of
    `exercise`, and the (student id, run) pairs of `elsewhere`: runs done on other kits."""
    if exercise not in EXERCISES:
        raise ValueError(f"unknown exercise {exercise!r}; known: {', '.join(EXERCISES)}")
    by_student: dict[int, list[RecordedRun]] = {}
    for run in runs:
        if run.project_id != project_id:
            continue
        rec = recorded(run, exercise)
        if rec is not None:
            by_student.setdefault(run.student_id, []).append(rec)
    for student_id, rec in elsewhere:
        if rec.exercise == exercise:
            by_student.setdefault(student_id, []).append(rec)
    out = []
    for student in students:
        mine = sorted(by_student.get(student.id, ()), key=lambda r: (r.started_at, r.run_id),
                      reverse=True)
        out.append(StudentRecord(student, tuple(mine)))
    return out
