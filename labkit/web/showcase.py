"""The showcase page (作品展示): the class's project cards for an open day, printable.

Each student owns their card (title, problem, results, the ethics checklist, one picture they
chose) and is the only student who may see or change it; the teacher sees and prints every
card of the class. A child who only picked their name (not verified, `web/auth.py`) may
create a card but not open one saved earlier under that name.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response as WerkzeugResponse

from labkit.store import N_, Problem
from labkit.store.showcase import ETHICS_ITEMS, ShowcaseCards
from labkit.web import auth
from labkit.web.access import STUDENT, TEACHER, allow
from labkit.web.labs import current_student, is_teacher, store
from labkit.web.portfolio import _authorize

bp = Blueprint("showcase", __name__, url_prefix="/showcase")

ETHICS_TEXT = {
    "consent": _l("Everyone in my pictures and data agreed to be in them."),
    "no_identification": _l("My project does not identify anyone beyond what it needs."),
    "data_minimal": _l("I kept only the data my project needs, and nothing leaves the kit."),
    "tested_fairly": _l("I tested it on different people and conditions, not only on myself."),
    "limits_stated": _l("My card says when my project gets it wrong."),
}


def cards() -> ShowcaseCards:
    return ShowcaseCards(store().data_dir / "showcase")


def _key(class_id: int, student_id: int) -> str:
    return f"{class_id}:{student_id}"


def _may_open_saved(class_id: int, student_id: int) -> None:
    if not auth.may_open("showcase", _key(class_id, student_id), student_id):
        raise Problem(N_("This card was saved earlier; sign in with your picture password "
                         "to open it."), fix=N_("Ask your teacher for your class code."),
                      code="forbidden")


def _view(card: Any, names: dict[int, str]) -> dict[str, Any]:
    return {"card": card, "name": names.get(card.student_id, ""),
            "ethics": [(item, ETHICS_TEXT[item], item in card.ethics) for item in ETHICS_ITEMS]}


@bp.get("/classes/<int:class_id>")
@allow(STUDENT, TEACHER)
def index(class_id: int) -> str:
    """Every card of the class (teacher), or only the student's own."""
    school_class = store().roster.get_class(class_id)
    names = {s.id: s.name for s in store().roster.students(class_id)}
    if is_teacher():
        shown = cards().for_class(class_id)
    else:
        me = current_student()
        if me is None or me.id not in names:
            raise Problem(N_("You can only open your own class's showcase."),
                          fix=N_("Pick your own name, or ask your teacher."), code="forbidden")
        mine = cards().get(class_id, me.id)
        shown = [mine] if mine is not None and auth.may_open(
            "showcase", _key(class_id, me.id), me.id) else []
    return render_template("showcase/index.html", school_class=school_class,
                           views=[_view(c, names) for c in shown], teacher=is_teacher(),
                           me=current_student())


@bp.route("/classes/<int:class_id>/students/<int:student_id>", methods=["GET", "POST"])
@allow(STUDENT, TEACHER)
def edit(class_id: int, student_id: int) -> str | WerkzeugResponse:
    school_class, student = _authorize(class_id, student_id)
    existing = cards().get(class_id, student_id)
    if existing is not None:
        _may_open_saved(class_id, student_id)
    if request.method == "POST":
        upload = request.files.get("picture")
        picture = upload.read() if upload is not None and upload.filename else None
        card = cards().save(class_id, student_id, title=request.form.get("title"),
                     problem=request.form.get("problem"), results=request.form.get("results"),
                     ethics=request.form.getlist("ethics"), picture=picture)
        if existing is None:
            auth.grant("showcase", _key(class_id, student_id))   # this session made it
        # for the open-project lab's checks: which checklist items are ticked, no texts
        current_app.extensions["labkit"].bus.publish("showcase.saved", {
            "class_id": class_id, "student_id": student_id, "ethics_done": len(card.ethics),
            "has_picture": card.has_picture, "has_results": bool(card.results)})
        flash(_("Your showcase card is saved."), "ok")
        return redirect(url_for("showcase.index", class_id=class_id))
    return render_template("showcase/edit.html", school_class=school_class, student=student,
                           card=existing, ethics=[(i, ETHICS_TEXT[i]) for i in ETHICS_ITEMS])


@bp.get("/classes/<int:class_id>/students/<int:student_id>/picture")
@allow(STUDENT, TEACHER)
def picture(class_id: int, student_id: int) -> Response:
    _authorize(class_id, student_id)
    _may_open_saved(class_id, student_id)
    data = cards().picture(class_id, student_id)
    if data is None:
        raise Problem(N_("This card has no picture."), code="not_found")
    return Response(data, mimetype="image/jpeg", headers={"Cache-Control": "private, no-store"})
