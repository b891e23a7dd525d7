"""This kit's records for the implementation report (store/report.py), for one term.

Sessions come from `class_sessions` (kept after their class is removed); runs and teacher
rubric levels from the runs of the term's classes, each with the UUIDs that let a room of kits
merge its records without counting one twice.
"""

from __future__ import annotations

from typing import Any

from labkit.store.classroom import term_bounds
from labkit.store.report import RunRecord, ScoreRecord, SessionRecord


def term_records(store: Any, term: str
                 ) -> tuple[list[SessionRecord], list[RunRecord], list[ScoreRecord]]:
    """(sessions, runs, teacher scores) of `term` on this kit (a `labkit.store.Store`)."""
    start, end = term_bounds(term)
    kit_id = store.kit_id
    sessions = store.classroom.records(kit_id, term)
    rows = store.db.query(
        "SELECT r.uuid, r.lesson_id, r.status, s.uuid AS student_uuid, c.uuid AS class_uuid "
        "FROM runs r JOIN students s ON s.id = r.student_id JOIN classes c ON c.id = s.class_id "
        "WHERE r.started_at >= ? AND r.started_at < ? ORDER BY r.started_at, r.id",
        (start, end))
    runs = [RunRecord(r["uuid"], kit_id, r["class_uuid"], r["student_uuid"], r["lesson_id"],
                      r["status"]) for r in rows]
    score_rows = store.db.query(
        "SELECT r.uuid AS run_uuid, sc.criterion, sc.level, sc.max_level FROM scores sc "
        "JOIN runs r ON r.id = sc.run_id WHERE sc.source = 'teacher' AND r.started_at >= ? "
        "AND r.started_at < ? ORDER BY r.id, sc.criterion", (start, end))
    scores = [ScoreRecord(r["run_uuid"], r["criterion"], r["level"], r["max_level"])
              for r in score_rows]
    return sessions, runs, scores


def students_reached(runs: list[RunRecord]) -> dict[str, int]:
    """{class UUID: students with at least one run}, and "" for the whole kit."""
    by_class: dict[str, set[str]] = {}
    for run in runs:
        by_class.setdefault(run.class_uuid, set()).add(run.student_uuid)
    out = {cls: len(who) for cls, who in by_class.items()}
    out[""] = len({run.student_uuid for run in runs})
    return out
