"""The semester plan page: for each class of the kit (with its grade set), the plan of its
grade for the term, and what the class has done against it — the lessons that opened each
planned lab and how many students finished it.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, render_template, request

from labkit import steady
from labkit.curriculum.plan_progress import plan_progress
from labkit.store.classroom import term_bounds, term_of
from labkit.web.access import TEACHER, allow
from labkit.web.labs import curriculum, store, tr
from labkit.web.lessons import lab_titles, when

bp = Blueprint("semester_plan", __name__, url_prefix="/teacher")


def chosen_term() -> str:
    """?term=2026-autumn, else the term the kit's clock is in (checked: bad → 404)."""
    term = request.args.get("term", "") or term_of(steady.now())
    term_bounds(term)
    return term


def term_choices(current: str) -> list[str]:
    terms = set(store().classroom.terms()) | {term_of(steady.now()), current}
    return sorted(terms, reverse=True)


def finished_by_lab(class_id: int, start: float, end: float) -> dict[str, int]:
    rows = store().db.query(
        "SELECT r.lesson_id, COUNT(DISTINCT r.student_id) AS n FROM runs r "
        "JOIN students s ON s.id = r.student_id WHERE s.class_id = ? AND r.status = 'finished' "
        "AND r.started_at >= ? AND r.started_at < ? GROUP BY r.lesson_id", (class_id, start, end))
    return {r["lesson_id"]: r["n"] for r in rows}


def class_plans(term: str) -> list[dict[str, Any]]:
    start, end = term_bounds(term)
    kind = term.split("-")[1]
    classroom = store().classroom
    grades = classroom.grades()
    out = []
    for cls in store().roster.classes():
        grade = grades.get(cls.id)
        entry: dict[str, Any] = {"class": cls, "grade": grade, "semesters": []}
        if grade is not None:
            sessions = [(s.started_at, s.lab_ids) for s in classroom.sessions(cls.id)
                        if start <= s.started_at < end]
            entry["semesters"] = plan_progress(curriculum(), grade, kind, sessions,
                                               finished_by_lab(cls.id, start, end))
            entry["lessons"] = len(sessions)
        out.append(entry)
    return out


@bp.get("/plan")
@allow(TEACHER)
def plan_page() -> Response:
    term = chosen_term()
    response = Response(render_template(
        "console/plan.html", term=term, terms=term_choices(term), classes=class_plans(term),
        titles=lab_titles(), when=when, tr=tr))
    response.headers["Cache-Control"] = "no-store"
    return response
