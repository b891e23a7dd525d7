"""The PE assessment's class chart (体育测评): one bar per student, drawn on the kit, one chart
per exercise (jumping jacks, sit-ups).

Each student's bar reaches their best count; a dark mark across it shows the latest count,
and the share of movements done with good form is written under the name.

    GET /teacher/classes/<id>/pe        the chart (server-drawn SVG) and the table under it
    GET /teacher/classes/<id>/pe.csv    the same figures, through the encrypted export
    GET /api/pe/classes/<id>            the figures as JSON (teacher)
    GET /pe/mine, /api/pe/mine          a student's own record, and nobody else's (only this
                                        session's runs until the picture password is given)

Figures come from the runs in the portfolio (`labkit.store.exercise_record`) and, on a lead
kit, the runs the class did on the room's other kits as last collected (docs/fleet.md; each
run UUID once, its kit named): per student, in the roster's order, the best and the latest
count and the share of movements done with good form. The SVG is drawn here from those
numbers — no script, no chart library — so it prints, and the page's `script-src 'self'`
policy has nothing to allow.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Response, jsonify, render_template
from flask_babel import gettext as _

from labkit.store.exercise_record import EXERCISES, StudentRecord, class_record
from labkit.web.access import STUDENT, TEACHER, allow
from labkit.web.exports import deliver
from labkit.web.grading import sheet_csv
from labkit.web.labs import need_student, store
from labkit.web.portfolio import _safe_filename, visible_runs

bp = Blueprint("pe_chart", __name__)

PE_LAB = "pe_assessment"

# the chart's geometry (SVG user units)
PLOT_HEIGHT = 200
GROUP_WIDTH = 64
BAR_WIDTH = 26
LEFT = 40
TOP = 20
BOTTOM = 58


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    height: float
    value: int


@dataclass(frozen=True)
class Group:
    """One student: a bar up to the best count, a mark across it at the latest count."""

    record: StudentRecord
    x: float                 # the group's centre
    best: Bar | None
    latest: Bar | None       # only its y and value are drawn (the mark)
    share: str               # "80%", or "" with no movement seen


def _ceiling(value: int) -> int:
    """The axis top: the best count rounded up to a multiple of 5 (at least 5)."""
    return max(5, -(-value // 5) * 5)


def chart(records: list[StudentRecord]) -> dict[str, Any]:
    """Where each bar, tick and label goes, for the template to draw."""
    top = _ceiling(max((r.best or 0 for r in records), default=0))
    scale = PLOT_HEIGHT / top

    def bar(x: float, value: int | None) -> Bar | None:
        if value is None:
            return None
        height = value * scale
        return Bar(x, TOP + PLOT_HEIGHT - height, height, value)

    groups = []
    for i, rec in enumerate(records):
        left = LEFT + i * GROUP_WIDTH + (GROUP_WIDTH - BAR_WIDTH) / 2
        share = "" if rec.form_share is None else f"{round(100 * rec.form_share)}%"
        groups.append(Group(rec, LEFT + i * GROUP_WIDTH + GROUP_WIDTH / 2,
                            bar(left, rec.best), bar(left, rec.latest), share))
    ticks = [(TOP + PLOT_HEIGHT - v * scale, v) for v in range(0, top + 1, top // 5)]
    return {"groups": groups, "ticks": ticks, "bar_width": BAR_WIDTH,
            "width": LEFT + max(1, len(records)) * GROUP_WIDTH + 8,
            "height": TOP + PLOT_HEIGHT + BOTTOM, "base": TOP + PLOT_HEIGHT, "left": LEFT,
            "top": TOP}


def exercise_names() -> dict[str, str]:
    """Each exercise of the record, named in the reader's language (the order is the page's)."""
    names = {"jumping_jack": _("Jumping jacks"), "sit_up": _("Sit-ups")}
    return {key: names[key] for key in EXERCISES}


def chart_labels(own: bool) -> dict[str, str]:
    """The chart's caption per exercise: the class's, or a student's own."""
    if own:
        return {"jumping_jack": _("My jumping jacks: best and latest count"),
                "sit_up": _("My sit-ups: best and latest count")}
    return {"jumping_jack": _("Jumping jacks per student: best and latest count"),
            "sit_up": _("Sit-ups per student: best and latest count")}


def records_of_class(class_id: int) -> dict[str, list[StudentRecord]]:
    """Each exercise's records of the class, from this kit's runs and the collected ones."""
    from labkit.fleet.records import collected_measured_runs
    from labkit.web.fleet import fleet

    db = store()
    students, runs = db.roster.students(class_id), db.runs.for_class(class_id)
    elsewhere = collected_measured_runs(fleet().state.collected(), db, class_id, PE_LAB)
    return {key: class_record(students, runs, PE_LAB, key, elsewhere=elsewhere)
            for key in EXERCISES}


def _other_kits(records: dict[str, list[StudentRecord]]) -> list[str]:
    """The names of the other kits runs were collected from (a kit not known by name: its
    id)."""
    from labkit.web.impl_report import room_kit_names

    ids = dict.fromkeys(k for recs in records.values() for r in recs for k in r.kits)
    names = room_kit_names() if ids else {}
    return [names.get(kit) or kit for kit in ids]


def _sections(records: dict[str, list[StudentRecord]], own: bool) -> list[dict[str, Any]]:
    names, labels = exercise_names(), chart_labels(own)
    return [{"exercise": key, "name": names[key], "label": labels[key], "records": recs,
             "chart": chart(recs)} for key, recs in records.items()]


def _page(template: str, **context: Any) -> Response:
    response = Response(render_template(template, **context))
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/teacher/classes/<int:class_id>/pe")
@allow(TEACHER)
def class_page(class_id: int) -> Response:
    school_class = store().roster.get_class(class_id)
    records = records_of_class(class_id)
    return _page("pe/class.html", school_class=school_class,
                 sections=_sections(records, own=False), other_kits=_other_kits(records))


@bp.get("/api/pe/classes/<int:class_id>")
@allow(TEACHER)
def class_json(class_id: int) -> Response:
    store().roster.get_class(class_id)
    records = {key: [r.as_dict() for r in recs]
               for key, recs in records_of_class(class_id).items()}
    # "students": the jumping jacks', as before sit-ups were counted
    return jsonify({"lab": PE_LAB, "students": records["jumping_jack"], "exercises": records})


@bp.get("/teacher/classes/<int:class_id>/pe.csv")
@allow(TEACHER)
def class_csv(class_id: int) -> Response:
    school_class = store().roster.get_class(class_id)
    header = [_("Exercise"), _("Student no."), _("Student"), _("Runs"), _("Best count"),
              _("Latest count"), _("Reps counted"), _("Movements made"), _("Good form (%)")]
    names = exercise_names()
    rows: list[list[object]] = [
        [names[key], r.student.student_no, r.student.name, len(r.runs), _blank(r.best),
         _blank(r.latest), r.reps, r.attempts,
         "" if r.form_share is None else round(100 * r.form_share)]
        for key, recs in records_of_class(class_id).items() for r in recs]
    data = sheet_csv(header, rows)
    base = _safe_filename(f"{school_class.name}-pe")
    # the ZIP and its entry carry the class's id only: a ZIP's names are readable unlocked
    return deliver({"pe.csv": data}, f"class-{class_id}-pe.zip", plain_data=data,
                   plain_name=f"{base}.csv", plain_mime="text/csv; charset=utf-8")


def _blank(value: int | None) -> object:
    return "" if value is None else value


def _own_records() -> dict[str, StudentRecord]:
    """The signed-in student's record per exercise, from the runs this browser may see: a
    name picked without the picture password shows only this session's runs, as the
    portfolio does."""
    student = need_student()
    runs = visible_runs(student)
    return {key: class_record([student], runs, PE_LAB, key)[0] for key in EXERCISES}


@bp.get("/api/pe/mine")
@allow(STUDENT)
def mine_json() -> Response:
    records = {key: r.as_dict() for key, r in _own_records().items()}
    # "student": the jumping jacks', as before sit-ups were counted
    return jsonify({"lab": PE_LAB, "student": records["jumping_jack"], "exercises": records})


@bp.get("/pe/mine")
@allow(STUDENT)
def mine_page() -> Response:
    records = {key: [r] for key, r in _own_records().items()}
    return _page("pe/mine.html", sections=_sections(records, own=True))
