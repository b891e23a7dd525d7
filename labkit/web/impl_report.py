"""The implementation report (实施评价) pages: per term, the class hours each class and grade
delivered against the targets, the labs delivered, the students reached and the rubric
distributions — as a printable page (with bar charts), CSV and XLSX.

The figures come from `labkit.store.report.implementation_report` over this kit's records of
the term (`labkit.store.report_records`); nothing here counts on its own.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, Response, render_template, request
from flask_babel import gettext as _

from labkit import bands
from labkit.store import N_, Problem
from labkit.store.classroom import term_bounds
from labkit.store.report import ClassReport, GradeReport, Target, implementation_report
from labkit.store.report_records import students_reached, term_records
from labkit.web.access import TEACHER, allow
from labkit.web.grading import XLSX_MIME
from labkit.web.labs import curriculum, store
from labkit.web.lessons import lab_titles
from labkit.web.exports import deliver
from labkit.web.portfolio import _csv_safe
from labkit.web.semester_plan import chosen_term, term_choices

bp = Blueprint("impl_report", __name__, url_prefix="/teacher")

DEFAULT_SEMESTER_WEEKS = 18


def semester_weeks() -> int:
    """The weeks of a semester, from the kit's plans (the targets of grades 3–8 depend on it)."""
    weeks = [int(p.data.get("weeks", 0)) for p in curriculum().plans.values()]
    return min((w for w in weeks if w > 0), default=DEFAULT_SEMESTER_WEEKS)


@dataclass
class TermReport:
    term: str
    classes: list[ClassReport]
    grades: dict[int, GradeReport]
    reached: dict[str, int]
    labs_delivered: list[str]           # labs opened in the term's lessons
    lessons: int
    hours: float
    weeks: int
    room: bool = False                  # the collected kits of the room included
    kit_names: dict[str, str] = field(default_factory=dict)

    def kits_text(self, report: ClassReport) -> str:
        return "、".join(self.kit_names.get(k, k[:8]) for k in report.kits)

    def by_band(self) -> list[tuple[Any, list[GradeReport]]]:
        out = []
        for band in bands.ALL:
            rows = [g for n, g in sorted(self.grades.items()) if n in band]
            if rows:
                out.append((band, rows))
        return out


def room_kit_names() -> dict[str, str]:
    """{kit id: its name} for this kit and every member kit of its room."""
    from labkit.web.fleet import fleet

    state = fleet().state
    names = {k: str(m.get("name") or k[:8]) for k, m in state.members().items()}
    names[store().kit_id] = state.name()
    return names


def term_report(term: str, *, room: bool = False) -> TermReport:
    """The term's report for this kit, or (`room`) for this kit and every kit whose records
    were collected over the room link (labkit/fleet/records.py), merged by UUID."""
    sessions, runs, scores = term_records(store(), term)
    names: dict[str, str] = {}
    if room:
        from labkit.fleet.records import room_report_records
        from labkit.web.fleet import fleet

        own = store().kit_id
        collected = [c for c in fleet().state.collected() if c.get("kit_id") != own]
        more = room_report_records(collected, *term_bounds(term))
        sessions, runs, scores = sessions + more[0], runs + more[1], scores + more[2]
        names = room_kit_names()
    weeks = semester_weeks()
    classes, grades = implementation_report(sessions, runs, scores, semester_weeks=weeks)
    labs = sorted({lab for s in sessions for lab in s.lab_ids})
    unique_sessions = {s.uuid: s for s in sessions}.values()
    return TermReport(term, classes, grades, students_reached(runs), labs,
                      len(unique_sessions), sum(s.class_hours for s in unique_sessions), weeks,
                      room, names)


def target_text(target: Target) -> str:
    if target.kind == "hours":
        return _("≥ %(n)s class hours", n="%g" % target.needed)
    if target.kind == "cross_disciplinary":
        return _("≥ %(n)s cross-disciplinary practice", n="%g" % target.needed)
    return _("no target")


def met_text(met: bool | None) -> str:
    return {True: _("met"), False: _("not yet met"), None: ""}[met]


def term_name(term: str) -> str:
    year, kind = term.split("-")
    return (_("%(year)s autumn term", year=year) if kind == "autumn"
            else _("%(year)s spring term", year=year))


def _labs_cell(report: ClassReport, titles: dict[str, str]) -> str:
    return "; ".join(f"{titles.get(lab, lab)} {n}" for lab, n in report.labs_completed.items())


def sheet_tables(rep: TermReport) -> list[tuple[str, list[str], list[list[object]]]]:
    """[(title, header, rows)]: the classes, then the grades (the CSV's sections, the XLSX's
    sheets)."""
    titles = lab_titles()
    class_header = [_("Term"), _("Grade"), _("Band"), _("Class"), _("Lessons"),
                    _("Class hours"), _("Cross-disciplinary practices"), _("Target"),
                    _("Target met"), _("Students reached"), _("Labs completed (students)")]
    class_rows: list[list[object]] = []
    for c in rep.classes:
        class_rows.append([
            rep.term, c.grade, str(bands.for_grade(c.grade).name), c.class_name, c.sessions,
            c.hours, c.cross_disciplinary, target_text(c.target), met_text(c.met),
            rep.reached.get(c.class_uuid, 0), _labs_cell(c, titles)]
            + ([rep.kits_text(c)] if rep.room else []))
    if rep.room:
        class_header.append(_("Kits"))
    grade_header = [_("Term"), _("Grade"), _("Band"), _("Target"), _("Classes"),
                    _("Classes meeting the target"), _("Class hours")]
    grade_rows: list[list[object]] = [
        [rep.term, g.grade, str(bands.for_grade(g.grade).name), target_text(g.target),
         g.classes, g.classes_met, g.hours] for _n, g in sorted(rep.grades.items())]
    return [(_("Classes"), class_header, class_rows), (_("Grades"), grade_header, grade_rows)]


def report_csv(rep: TermReport) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for i, (title, header, rows) in enumerate(sheet_tables(rep)):
        if i:
            writer.writerow([])
        writer.writerow([title])
        writer.writerow(header)
        for row in rows:
            writer.writerow([_csv_safe(v) if isinstance(v, str) else v for v in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def report_xlsx(rep: TermReport) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    book.remove(book.active)
    for title, header, rows in sheet_tables(rep):
        sheet = book.create_sheet(title[:31])
        for r, values in enumerate([header, *rows], start=1):
            for c, value in enumerate(values, start=1):
                cell = sheet.cell(row=r, column=c, value=value)
                if isinstance(value, str):
                    cell.data_type = "s"   # a class name '=1+1' stays text
        sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def chart_bars(rep: TermReport) -> list[dict[str, Any]]:
    """One bar per class: delivered against its target, scaled to the largest of either."""
    top = max([c.delivered for c in rep.classes] + [c.target.needed for c in rep.classes]
              + [1.0])
    return [{"name": c.class_name, "delivered": c.delivered, "needed": c.target.needed,
             "kind": c.target.kind, "width": round(400 * c.delivered / top, 1),
             "target_x": round(400 * c.target.needed / top, 1), "met": c.met}
            for c in rep.classes]


def wants_room() -> bool:
    """?room=1: the room's collected kits included."""
    return request.args.get("room") == "1"


@bp.get("/report")
@allow(TEACHER)
def report_page() -> Response:
    term = chosen_term()
    rep = term_report(term, room=wants_room())
    response = Response(render_template(
        "console/report.html", rep=rep, term=term, terms=term_choices(term), titles=lab_titles(),
        term_name=term_name, target_text=target_text, met_text=met_text, bars=chart_bars(rep),
        kit_id=store().kit_id))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/report.<fmt>")
@allow(TEACHER)
def report_download(fmt: str) -> Response:
    term = chosen_term()
    rep = term_report(term, room=wants_room())
    name = f"implementation-report-{term}" + ("-room" if rep.room else "")
    if fmt == "csv":
        data, mime = report_csv(rep), "text/csv; charset=utf-8"
    elif fmt == "xlsx":
        data, mime = report_xlsx(rep), XLSX_MIME
    else:
        raise Problem(N_("The report is a page, CSV or XLSX."), code="not_found")
    return deliver({f"{name}.{fmt}": data}, f"{name}-{fmt}.zip", plain_data=data,
                   plain_name=f"{name}.{fmt}", plain_mime=mime)
