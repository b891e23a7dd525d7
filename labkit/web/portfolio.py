"""The growth portfolio (成长档案): each student's lab runs, for the student and the teacher.

What a run shows: the lab, the date, the steps passed and the time spent, the self-assessment
and the teacher's rubric levels, the reflection, and the files the student chose to keep. It
is the record of the process, not a single grade. Exports per student or per class: a CSV
(UTF-8 with BOM so spreadsheet programs read Chinese correctly) and a ZIP with that CSV, a
printable HTML report and the kept files; both leave the kit inside an AES ZIP under the
teacher's export passphrase unless the teacher explicitly chose a plain file (`web/exports.py`).

Access: a student sees only their own portfolio; the teacher (PIN session) sees everyone's.
A student id that is not in the class named in the URL is answered 404 before anything else.
A child who picked their name without proving it (no picture password or class code: a fresh
lab session, `web/auth.py`) sees only the runs of that session — never earlier work, photos or
exports saved under that name.
"""

from __future__ import annotations

import csv
import time
import io
from datetime import datetime
from typing import Any, Iterable

from flask import (Blueprint, Response, flash, redirect, render_template, request, url_for)
from flask_babel import gettext as _
from werkzeug.wrappers import Response as WerkzeugResponse

from labkit.curriculum import Lesson
from labkit.store import N_, Problem, Run, SchoolClass, Student
from labkit.web import auth
from labkit.web.exports import deliver
from labkit import exportlock
from labkit.web.labs import current_student, curriculum, is_teacher, lang, store, tr
from labkit.web.primary import duration_text, star_view, uses_stars
from labkit.web.access import ANONYMOUS, STUDENT, TEACHER, allow

bp = Blueprint("portfolio", __name__, url_prefix="/portfolio")


def _authorize(class_id: int, student_id: int) -> tuple[SchoolClass, Student]:
    """The class and student if this browser may see them (404 if not in that class)."""
    school_class = store().roster.get_class(class_id)
    student = store().roster.student(class_id, student_id)
    if is_teacher():
        return school_class, student
    me = current_student()
    if me is None or me.id != student.id:
        raise Problem(N_("You can only open your own portfolio."),
                      fix=N_("Pick your own name, or ask your teacher."), code="forbidden")
    return school_class, student


def visible_runs(student: Student) -> list[Run]:
    """The student's runs this browser may see: all of them, or this session's own."""
    runs = store().runs.for_student(student.id)
    if auth.sees_all_work_of(student.id):
        return runs
    mine = auth.granted("run")
    return [r for r in runs if str(r.id) in mine]


def when(ts: float | None) -> str:
    return "" if ts is None else datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M")


def minutes(seconds: float) -> str:
    return f"{seconds / 60:.1f}"


def _lesson(run: Run) -> Lesson | None:
    return curriculum().lessons.get(run.lesson_id)


def run_view(run: Run) -> dict[str, Any]:
    """One run prepared for the page, the CSV and the report."""
    lesson = _lesson(run)
    criteria = lesson.criteria if lesson else []
    names = {c["id"]: tr(c["name"]) for c in criteria}
    level_text = {c["id"]: [tr(t) for t in c["levels"]] for c in criteria}
    step_text = {s["id"]: tr(s["text"]) for s in lesson.steps} if lesson else {}

    def scores(source: str) -> list[dict[str, Any]]:
        out = []
        for criterion, score in sorted(run.scores_by(source).items()):
            texts = level_text.get(criterion, [])
            out.append({"criterion": criterion, "name": names.get(criterion, criterion),
                        "level": score.level, "max": score.max_level,
                        "text": texts[score.level - 1] if score.level <= len(texts) else ""})
        return out

    # every step of the lesson in its order, passed or not (the process, not just the score)
    passed_at = {s.step_id: s.passed_at for s in run.steps}
    step_order = [s["id"] for s in lesson.steps] if lesson else []
    step_order += [s.step_id for s in run.steps if s.step_id not in step_order]
    steps = [{"id": sid, "text": step_text.get(sid, sid), "at": when(passed_at.get(sid))}
             for sid in step_order]
    self_scores, teacher_scores = scores("self"), scores("teacher")
    if lesson is not None and uses_stars(lesson):
        for score in self_scores:   # the child's own stars and sentence, as they chose them
            score.update(star_view(score["level"], score["max"]))
    order = [c["id"] for c in criteria]
    ids = sorted({s["criterion"] for s in self_scores + teacher_scores},
                 key=lambda c: (order.index(c) if c in order else len(order), c))
    by_self = {s["criterion"]: s for s in self_scores}
    by_teacher = {s["criterion"]: s for s in teacher_scores}
    rubric = [{"criterion": c, "name": names.get(c, c), "self": by_self.get(c),
               "teacher": by_teacher.get(c)} for c in ids]
    status_text = {"running": _("running"), "finished": _("finished"), "stopped": _("stopped"),
                   "interrupted": _("interrupted")}
    return {
        "run": run, "id": run.id, "title": run.title(lang()), "lesson": lesson,
        "started": when(run.started_at), "ended": when(run.ended_at),
        "status": run.status, "status_text": status_text.get(run.status, run.status),
        "steps_passed": run.steps_passed, "steps_total": run.steps_total,
        "steps": steps,
        "minutes": minutes(run.seconds), "duration": duration_text(run.seconds),
        "self": self_scores, "teacher": teacher_scores,
        "rubric": rubric,
        "criteria": criteria, "question": run.reflection_question, "reflection": run.reflection,
        "artefacts": run.artefacts,
        "measures": measure_rows(run, lesson),
    }


def measure_rows(run: Run, lesson: Lesson | None) -> list[dict[str, Any]]:
    """What the run measured (its lab's `record:`), each named by the signal it came from."""
    data = lesson.data if lesson is not None else {}
    record, signals = data.get("record") or {}, data.get("signals") or {}
    rows = []
    for name, value in run.measures.items():
        signal = signals.get(record.get(name, ""))
        label = tr(signal["label"]) if isinstance(signal, dict) and signal.get("label") else name
        rows.append({"name": name, "label": label,
                     "value": int(value) if float(value).is_integer() else value})
    return rows


# ---- pages ----------------------------------------------------------------------------------
@bp.get("")
@allow(ANONYMOUS)
def mine() -> WerkzeugResponse:
    me = current_student()
    if me is not None:
        return redirect(url_for("portfolio.student_view", class_id=me.class_id,
                                student_id=me.id))
    if is_teacher():
        return redirect(url_for("teacher.index"))
    return redirect(url_for("labs.pick_class", next=url_for("portfolio.mine")))


@bp.get("/classes/<int:class_id>/students/<int:student_id>")
@allow(STUDENT)
def student_view(class_id: int, student_id: int) -> str:
    school_class, student = _authorize(class_id, student_id)
    runs = [run_view(r) for r in visible_runs(student)]
    return render_template("labs/portfolio_student.html", school_class=school_class,
                           student=student, runs=runs, teacher=is_teacher(),
                           fresh_session=not auth.sees_all_work_of(student.id))


@bp.get("/classes/<int:class_id>")
@allow(TEACHER)
def class_view(class_id: int) -> str:
    school_class = store().roster.get_class(class_id)
    students = store().roster.students(class_id)
    by_student: dict[int, list[Run]] = {s.id: [] for s in students}
    for run in store().runs.for_class(class_id):
        by_student.setdefault(run.student_id, []).append(run)
    rows = []
    for s in students:
        runs = by_student[s.id]
        rows.append({"student": s, "runs": len(runs),
                     "finished": sum(1 for r in runs if r.status == "finished"),
                     "steps": sum(r.steps_passed for r in runs),
                     "steps_total": sum(r.steps_total for r in runs),
                     "minutes": minutes(sum(r.seconds for r in runs)),
                     "last": when(max((r.started_at for r in runs), default=None))})
    return render_template("labs/portfolio_class.html", school_class=school_class, rows=rows)


@bp.post("/classes/<int:class_id>/students/<int:student_id>/runs/<int:run_id>/scores")
@allow(TEACHER)
def teacher_scores(class_id: int, student_id: int, run_id: int) -> WerkzeugResponse:
    _school_class, student = _authorize(class_id, student_id)
    run = store().runs.get(run_id)
    if run.student_id != student.id:
        raise Problem(N_("That run is not in %(name)s's portfolio."), code="not_found",
                      name=student.name)
    lesson = _lesson(run)
    if lesson is None:
        raise Problem(N_("The lesson of this run is no longer on the kit."), code="not_found")
    scores = {}
    for criterion in lesson.criteria:
        raw = request.form.get(f"level-{criterion['id']}", "")
        if raw == "":
            continue
        try:
            level = int(raw)
        except ValueError:
            level = 0
        if not 1 <= level <= len(criterion["levels"]):
            raise Problem(N_("Pick one of the levels for \"%(criterion)s\"."), code="bad_input",
                          criterion=tr(criterion["name"]))
        scores[criterion["id"]] = (level, len(criterion["levels"]))
    store().runs.set_scores(run.id, "teacher", scores)
    flash(_("Rubric levels saved."), "ok")
    return redirect(url_for("portfolio.student_view", class_id=class_id, student_id=student_id,
                            _anchor=f"run-{run_id}"))


@bp.get("/classes/<int:class_id>/students/<int:student_id>/files/<int:artefact_id>")
@allow(STUDENT)
def artefact(class_id: int, student_id: int, artefact_id: int) -> Response:
    _school_class, student = _authorize(class_id, student_id)
    art = store().artefacts.get(artefact_id)
    if art.run_id not in {r.id for r in visible_runs(student)}:
        raise Problem(N_("That file is not in the portfolio."), code="not_found")
    data = store().artefacts.read(art)
    mime = {"jpg": "image/jpeg", "png": "image/png", "wav": "audio/wav",
            "json": "application/json"}.get(art.path.rsplit(".", 1)[-1], "application/octet-stream")
    response = Response(data, mimetype=mime)
    response.headers["Cache-Control"] = "private, no-store"
    return response


# ---- exports --------------------------------------------------------------------------------
CSV_COLUMNS = (
    ("class", N_("Class")), ("student", N_("Student")), ("lesson", N_("Lesson id")),
    ("title", N_("Lab")), ("started", N_("Started")), ("ended", N_("Ended")),
    ("status", N_("Status")), ("steps_passed", N_("Steps passed")),
    ("steps_total", N_("Steps in the lab")), ("minutes", N_("Minutes")),
    ("self", N_("Self-assessment")), ("teacher", N_("Teacher rubric")),
    ("question", N_("Reflection question")), ("reflection", N_("Reflection")),
    ("files", N_("Kept files")),
)


def _csv_safe(value: str) -> str:
    """Keep spreadsheet programs from running a cell as a formula (e.g. a name '=1+1')."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def _levels(scores: list[dict[str, Any]]) -> str:
    return "; ".join(f"{s['name']} {s['level']}/{s['max']}" for s in scores)


def csv_bytes(rows: Iterable[tuple[SchoolClass, Student, dict[str, Any]]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([_(label) for _key, label in CSV_COLUMNS])
    for school_class, student, v in rows:
        values = {"class": school_class.name, "student": student.name, "lesson": v["run"].lesson_id,
                  "title": v["title"], "started": v["started"], "ended": v["ended"],
                  "status": v["status_text"], "steps_passed": str(v["steps_passed"]),
                  "steps_total": str(v["steps_total"]), "minutes": v["minutes"],
                  "self": _levels(v["self"]), "teacher": _levels(v["teacher"]),
                  "question": v["question"], "reflection": v["reflection"],
                  "files": "; ".join(a.name for a in v["artefacts"])}
        writer.writerow([_csv_safe(values[key]) for key, _label in CSV_COLUMNS])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _collect(school_class: SchoolClass, students: list[Student]
             ) -> list[tuple[SchoolClass, Student, dict[str, Any]]]:
    rows = []
    for student in students:
        for run in sorted(visible_runs(student), key=lambda r: r.started_at):
            rows.append((school_class, student, run_view(run)))
    return rows


def _safe_filename(name: str) -> str:
    keep = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in name)
    return keep.strip("_") or "export"


def zip_entries(title: str, school_class: SchoolClass, students: list[Student],
                rows: list[tuple[SchoolClass, Student, dict[str, Any]]]) -> dict[str, bytes]:
    """The files of a portfolio ZIP: the CSV, the kept files and the printable report.

    Entry names carry ids only: a ZIP's list of names is readable without its passphrase,
    so a child's name must not be in it; the report (inside, encrypted) links each file."""
    entries = {"portfolio.csv": csv_bytes(rows)}
    files: dict[int, str] = {}
    for _cls, student, v in rows:
        for art in v["artefacts"]:
            try:
                data = store().artefacts.read(art)
            except Problem:
                continue  # a missing file is left out; the CSV still names it
            name = f"files/{student.id}/{art.id}.{art.path.rsplit('.', 1)[-1]}"
            entries[name] = data
            files[art.id] = name
    by_student = [(s, [v for _c, st, v in rows if st.id == s.id]) for s in students]
    html = render_template("labs/report.html", title=title, school_class=school_class,
                           by_student=by_student, files=files, generated=when(time.time()))
    entries["report.html"] = html.encode("utf-8")
    return entries


def zip_bytes(title: str, school_class: SchoolClass, students: list[Student],
              rows: list[tuple[SchoolClass, Student, dict[str, Any]]]) -> bytes:
    """The portfolio ZIP unencrypted (the teacher's explicit choice)."""
    return exportlock.plain_zip(zip_entries(title, school_class, students, rows))


def _deliver(fmt: str, title: str, school_class: SchoolClass, students: list[Student],
             rows: list[tuple[SchoolClass, Student, dict[str, Any]]], *, plain_base: str,
             locked_base: str) -> Response:
    """A portfolio export as `deliver` hands it out; `locked_base` names no child."""
    if fmt == "csv":
        data = csv_bytes(rows)
        return deliver({"portfolio.csv": data}, f"{locked_base}.zip", plain_data=data,
                       plain_name=f"{plain_base}.csv", plain_mime="text/csv; charset=utf-8")
    if fmt == "zip":
        entries = zip_entries(title, school_class, students, rows)
        return deliver(entries, f"{locked_base}.zip", plain_data=exportlock.plain_zip(entries),
                       plain_name=f"{plain_base}.zip", plain_mime="application/zip")
    raise Problem(N_("Exports are CSV or ZIP."), code="not_found")


@bp.get("/classes/<int:class_id>/students/<int:student_id>/export.<fmt>")
@allow(STUDENT)
def export_student(class_id: int, student_id: int, fmt: str) -> Response:
    school_class, student = _authorize(class_id, student_id)
    if fmt not in ("csv", "zip"):
        raise Problem(N_("Exports are CSV or ZIP."), code="not_found")
    rows = _collect(school_class, [student])
    title = _("Portfolio of %(name)s", name=student.name)
    return _deliver(fmt, title, school_class, [student], rows,
                    plain_base=_safe_filename(f"{school_class.name}-{student.name}"),
                    locked_base=_safe_filename(f"{school_class.name}-{student.id}-{fmt}"))


@bp.get("/classes/<int:class_id>/export.<fmt>")
@allow(TEACHER)
def export_class(class_id: int, fmt: str) -> Response:
    school_class = store().roster.get_class(class_id)
    students = store().roster.students(class_id)
    if fmt not in ("csv", "zip"):
        raise Problem(N_("Exports are CSV or ZIP."), code="not_found")
    rows = _collect(school_class, students)
    base = _safe_filename(school_class.name)
    title = _("Portfolios of class %(name)s", name=school_class.name)
    return _deliver(fmt, title, school_class, students, rows, plain_base=base,
                    locked_base=f"{base}-{fmt}")
