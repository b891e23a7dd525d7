"""Grading a whole class on one screen, and the class's grade sheet.

The screen shows, for one lab, every student of the class in 学号 order: how far their latest
run got, one level per rubric criterion and a comment (评语). It is saved whole. Levels go on
the run being graded — the latest run that already has teacher levels, else the latest run —
so the portfolio shows them on that run; a student with no run of the lab can get a comment.

The grade sheet (CSV and XLSX) has one row per student × lab — every student of the class,
with or without runs — and one column per rubric criterion, so it pastes into a school's grade
sheet as it is.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response as WerkzeugResponse

from labkit.bands import BANDS
from labkit.curriculum import Lesson
from labkit.store import N_, Problem, Run, Student
from labkit.store.grading import StudentGrade
from labkit.web.access import TEACHER, allow
from labkit.web.labs import curriculum, store, tr, translate
from labkit.web.exports import deliver
from labkit.web.portfolio import _csv_safe, _safe_filename

bp = Blueprint("grading", __name__, url_prefix="/teacher/classes")

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def lessons() -> list[Lesson]:
    """Every lab on the kit, band by band (the order of the lab picker)."""
    return [lesson for band in BANDS for lesson in curriculum().lessons_in(band)]


def graded_run(runs: list[Run]) -> Run | None:
    """The run whose levels stand for the student's work on a lab (`runs` newest first)."""
    for run in runs:
        if run.scores_by("teacher"):
            return run
    return runs[0] if runs else None


def _runs_by(class_id: int) -> dict[tuple[int, str], list[Run]]:
    """{(student id, lab id): runs, newest first} for the class."""
    out: dict[tuple[int, str], list[Run]] = {}
    for run in store().runs.for_class(class_id):   # newest first
        out.setdefault((run.student_id, run.lesson_id), []).append(run)
    return out


# ---- the grading screen ------------------------------------------------------------------
@dataclass
class GradingRow:
    student: Student
    run: Run | None
    comment: str


def _rows(class_id: int, lesson_id: str) -> list[GradingRow]:
    runs = _runs_by(class_id)
    comments = store().grading.comments_for_class(class_id)
    return [GradingRow(s, graded_run(runs.get((s.id, lesson_id), [])),
                       comments.get((s.id, lesson_id), ""))
            for s in store().roster.students(class_id)]


def _pick_lesson(class_id: int) -> Lesson:
    wanted = request.values.get("lab", "")
    if wanted:
        lesson = curriculum().lessons.get(wanted)
        if lesson is None:
            raise Problem(N_("There is no lab \"%(lab)s\" on this kit."),
                          fix=N_("Pick a lab from the list."), code="not_found", lab=wanted[:60])
        return lesson
    latest = store().runs.for_class(class_id)
    for run in latest:
        if run.lesson_id in curriculum().lessons:
            return curriculum().lessons[run.lesson_id]
    available = lessons()
    if not available:
        raise Problem(N_("There are no labs on this kit."), code="not_found")
    return available[0]


@bp.get("/<int:class_id>/grading")
@allow(TEACHER)
def grading_page(class_id: int) -> Response:
    school_class = store().roster.get_class(class_id)
    lesson = _pick_lesson(class_id)
    response = Response(render_template(
        "console/grading.html", school_class=school_class, lesson=lesson, lessons=lessons(),
        rows=_rows(class_id, lesson.id), criteria=lesson.criteria, tr=tr))
    response.headers["Cache-Control"] = "no-store"
    return response


def _level(raw: str, criterion: dict[str, Any]) -> int | None:
    if raw == "":
        return None
    try:
        level = int(raw)
    except ValueError:
        level = 0
    if not 1 <= level <= len(criterion["levels"]):
        raise Problem(N_("Pick one of the levels for \"%(criterion)s\"."), code="bad_input",
                      criterion=tr(criterion["name"]))
    return level


@bp.post("/<int:class_id>/grading")
@allow(TEACHER)
def save_grading(class_id: int) -> WerkzeugResponse:
    """Save the whole screen: `level-<student>-<criterion>` and `comment-<student>` fields."""
    store().roster.get_class(class_id)
    lesson = _pick_lesson(class_id)
    back = redirect(url_for("grading.grading_page", class_id=class_id, lab=lesson.id))
    grades = []
    try:
        for row in _rows(class_id, lesson.id):
            sid = row.student.id
            if f"comment-{sid}" not in request.form:
                continue   # not on the screen that was sent (e.g. added since): left as it is
            levels = {}
            for criterion in lesson.criteria:
                level = _level(request.form.get(f"level-{sid}-{criterion['id']}", ""), criterion)
                if level is not None:
                    levels[criterion["id"]] = (level, len(criterion["levels"]))
            if levels and row.run is None:
                raise Problem(N_("%(name)s has not run this lab: only a comment can be saved."),
                              code="bad_input", name=row.student.name)
            grades.append(StudentGrade(sid, row.run.id if row.run else None, levels,
                                       request.form.get(f"comment-{sid}", "")))
        store().grading.save_class(class_id, lesson.id, grades)
    except Problem as exc:
        if exc.code == "not_found":
            raise
        message, fix = translate(exc)
        flash(_("Nothing was saved: %(message)s", message=f"{message} {fix}".strip()), "error")
        return back
    flash(_("Grades and comments saved for %(count)s students.", count=len(grades)), "ok")
    return back


# ---- the grade sheet ----------------------------------------------------------------------
def grade_sheet(class_id: int, lesson_ids: list[str] | None = None
                ) -> tuple[list[str], list[list[object]]]:
    """(header, rows): one row per student × lab, one column per rubric criterion.

    Labs: `lesson_ids`, or every lab the class has runs or comments for. Every student of the
    class has a row for every such lab, with empty cells where there is nothing yet.
    """
    students = store().roster.students(class_id)
    school_class = store().roster.get_class(class_id)
    runs = _runs_by(class_id)
    comments = store().grading.comments_for_class(class_id)
    known = curriculum().lessons
    if lesson_ids is None:
        used = {lab for _sid, lab in runs} | {lab for _sid, lab in comments}
        lesson_ids = [lesson.id for lesson in lessons() if lesson.id in used]
        lesson_ids += sorted(used - set(lesson_ids))   # labs no longer on the kit, last
    criteria: dict[str, str] = {}
    for lab in lesson_ids:
        if lab in known:
            for criterion in known[lab].criteria:
                criteria.setdefault(criterion["id"], "%s (1–%d)" % (tr(criterion["name"]),
                                                                  len(criterion["levels"])))
    header = [_("Student no."), _("Student"), _("Class"), _("Lab id"), _("Lab"), _("Status"),
              _("Steps passed"), _("Steps in the lab"), *criteria.values(), _("Comment")]
    status_text = {"running": _("running"), "finished": _("finished"), "stopped": _("stopped"),
                   "interrupted": _("interrupted")}
    rows: list[list[object]] = []
    for lab in lesson_ids or [""]:
        title = tr(known[lab].data.get("title")) if lab in known else ""
        for s in students:
            run = graded_run(runs.get((s.id, lab), []))
            levels = run.scores_by("teacher") if run else {}
            rows.append([
                s.student_no, s.name, school_class.name, lab, title,
                status_text.get(run.status, run.status) if run else _("no run"),
                run.steps_passed if run else "", run.steps_total if run else "",
                *[levels[c].level if c in levels else "" for c in criteria],
                comments.get((s.id, lab), ""),
            ])
    return header, rows


def sheet_csv(header: list[str], rows: list[list[object]]) -> bytes:
    """UTF-8 with BOM (spreadsheet programs read Chinese correctly); no cell runs as a formula."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([_csv_safe(v) if isinstance(v, str) else v for v in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def sheet_xlsx(title: str, header: list[str], rows: list[list[object]]) -> bytes:
    """A one-sheet workbook; text cells stay text (a name '=1+1' is never a formula)."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = _safe_filename(title)[:31] or "sheet"
    for r, values in enumerate([header, *rows], start=1):
        for c, value in enumerate(values, start=1):
            cell = sheet.cell(row=r, column=c, value=value)
            if isinstance(value, str):
                cell.data_type = "s"
    sheet.freeze_panes = "C2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@bp.get("/<int:class_id>/grades.<fmt>")
@allow(TEACHER)
def export_grades(class_id: int, fmt: str) -> Response:
    school_class = store().roster.get_class(class_id)
    lab = request.args.get("lab", "")
    if lab and lab not in curriculum().lessons:
        raise Problem(N_("There is no lab \"%(lab)s\" on this kit."),
                      fix=N_("Pick a lab from the list."), code="not_found", lab=lab[:60])
    if fmt not in ("csv", "xlsx"):
        raise Problem(N_("Grade sheets are CSV or XLSX."), code="not_found")
    header, rows = grade_sheet(class_id, [lab] if lab else None)
    base = _safe_filename(f"{school_class.name}-grades")
    if fmt == "csv":
        data, mime = sheet_csv(header, rows), "text/csv; charset=utf-8"
    else:
        data, mime = sheet_xlsx(school_class.name, header, rows), XLSX_MIME
    return deliver({f"grades.{fmt}": data}, f"{base}-{fmt}.zip", plain_data=data,
                   plain_name=f"{base}.{fmt}", plain_mime=mime)
