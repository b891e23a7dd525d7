"""The progress wall as data: for each student of a class session, which lab and step they are
on, whether they are stuck, and what they finished.

Read from the runs the students started since the session began (one query, however many
students), so the wall is the same whichever page or kit process wrote the runs. A student is
*stuck* when their run is still going and no step has passed for `stuck_after` seconds, or
when the lab's code keeps failing (`errors`, counted by the caller from the runner's
`lab.error` events, which are not stored). The function reads no clock: `now` is given.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Mapping

from labkit.store.classroom import ClassSession
from labkit.store.db import Database
from labkit.store.roster import STUDENT_ORDER

STUCK_AFTER_S = 5 * 60.0

NOT_STARTED = "not_started"
WORKING = "working"
STUCK = "stuck"
FINISHED = "finished"
STOPPED = "stopped"


@dataclass
class StudentProgress:
    student_id: int
    student_no: str
    name: str
    state: str = NOT_STARTED
    lab_id: str = ""
    run_id: int | None = None
    steps_passed: int = 0
    steps_total: int = 0
    idle_s: float = 0.0            # since the run's last step (or its start)
    errors: int = 0
    finished: list[str] = field(default_factory=list)   # labs finished in this session

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def progress_wall(db: Database, session: ClassSession, now: float, *,
                  errors: Mapping[int, int] | None = None,
                  stuck_after: float = STUCK_AFTER_S) -> list[StudentProgress]:
    """One entry per student of the session's class, in 学号 order, then by name."""
    errors = errors or {}
    if session.class_id is None:
        return []
    students = db.query("SELECT id, name, student_no FROM students WHERE class_id = ? "
                        f"{STUDENT_ORDER}", (session.class_id,))
    wall = {r["id"]: StudentProgress(r["id"], r["student_no"], r["name"]) for r in students}
    until = session.ended_at if session.ended_at is not None else float("inf")
    runs = db.query(
        "SELECT r.id, r.student_id, r.lesson_id, r.steps_total, r.started_at, r.status, "
        "COUNT(sr.run_id) AS passed, MAX(sr.passed_at) AS last_pass "
        "FROM runs r JOIN students s ON s.id = r.student_id "
        "LEFT JOIN step_results sr ON sr.run_id = r.id "
        "WHERE s.class_id = ? AND r.started_at >= ? AND r.started_at <= ? "
        "GROUP BY r.id ORDER BY r.started_at, r.id",
        (session.class_id, session.started_at, until))
    for run in runs:   # oldest first: the last one seen is the student's current run
        entry = wall.get(run["student_id"])
        if entry is None:
            continue
        if run["status"] == "finished" and run["lesson_id"] not in entry.finished:
            entry.finished.append(run["lesson_id"])
        last_change = max(run["started_at"], run["last_pass"] or 0.0)
        entry.lab_id, entry.run_id = run["lesson_id"], run["id"]
        entry.steps_passed, entry.steps_total = run["passed"], run["steps_total"]
        entry.idle_s = max(0.0, now - last_change)
        entry.errors = int(errors.get(run["id"], 0))
        if run["status"] == "finished":
            entry.state = FINISHED
        elif run["status"] == "running":
            stuck = entry.errors > 0 or entry.idle_s >= stuck_after
            entry.state = STUCK if stuck else WORKING
        else:
            entry.state = STOPPED
    return list(wall.values())


def wall_counts(wall: list[StudentProgress]) -> dict[str, int]:
    """How many students are in each state (the wall's headline)."""
    counts = {NOT_STARTED: 0, WORKING: 0, STUCK: 0, FINISHED: 0, STOPPED: 0}
    for entry in wall:
        counts[entry.state] += 1
    return counts
