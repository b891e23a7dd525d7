"""A student is who they say: the picture password or the class code, else a fresh session.

After a child taps their name (`labs.pick_student`), `begin()` looks at the class's sign-in
mode (`labkit.store.signin`): with `name` the child gets a fresh lab session at once; with
`pictures` or `code` this page asks for the two pictures or the class code. The right answer
opens a *verified* session (their own portfolio, photos, exports and /learn projects); a child
who cannot remember may still start a fresh lab session, which never shows earlier work.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as WerkzeugResponse

from labkit.store import Problem, Student
from labkit.store.signin import PICTURES
from labkit.web import auth
from labkit.web.access import ANONYMOUS, allow
from labkit.web.labs import safe_next, store, translate
from labkit.web.teacher import picture_names

bp = Blueprint("student_signin", __name__, url_prefix="/student/classes/<int:class_id>"
               "/students/<int:student_id>")


def begin(student: Student, next_url: str) -> WerkzeugResponse:
    """Where tapping a name leads: straight into a fresh session, or to the proof page."""
    if store().sign_in.mode(student.class_id) == "name":
        auth.open_student_session(student, verified=False)
        return redirect(next_url)
    return redirect(url_for("student_signin.prove", class_id=student.class_id,
                            student_id=student.id, next=next_url))


def _page(student: Student, next_url: str, error: str = "", status: int = 200) -> Response:
    mode = store().sign_in.mode(student.class_id)
    has_pictures = store().sign_in.pictures_of(student.id) is not None
    body = render_template("labs/student_signin.html", student=student, mode=mode,
                           has_pictures=has_pictures, pictures=PICTURES,
                           picture_names=picture_names(), next=next_url, error=error,
                           school_class=store().roster.get_class(student.class_id))
    response = Response(body, status=status)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/sign-in")
@allow(ANONYMOUS)
def prove(class_id: int, student_id: int) -> Response:
    student = store().roster.student(class_id, student_id)
    return _page(student, safe_next(request.args.get("next")))


@bp.post("/sign-in")
@allow(ANONYMOUS)
def check(class_id: int, student_id: int) -> Any:
    from flask_babel import gettext as _

    student = store().roster.student(class_id, student_id)
    next_url = safe_next(request.form.get("next"))
    mode = store().sign_in.mode(class_id)
    try:
        if mode == "pictures":
            ok = store().sign_in.check_pictures(student.id, request.form.getlist("picture"))
            wrong = _("Those are not your two pictures. Try again, or ask your teacher.")
        elif mode == "code":
            ok = store().sign_in.check_code(class_id, request.form.get("code", ""))
            wrong = _("That is not the class code. Look at the teacher's screen.")
        else:
            ok, wrong = False, ""
    except Problem as exc:   # too many wrong tries: wait
        return _page(student, next_url, translate(exc)[0], 429)
    if not ok:
        if mode == "name":
            return begin(student, next_url)
        return _page(student, next_url, wrong, 403)
    auth.open_student_session(student, verified=True)
    return redirect(next_url)


@bp.post("/fresh")
@allow(ANONYMOUS)
def fresh(class_id: int, student_id: int) -> WerkzeugResponse:
    """Start a fresh lab session under this name: new work only, no earlier work shown."""
    student = store().roster.student(class_id, student_id)
    auth.open_student_session(student, verified=False)
    return redirect(safe_next(request.form.get("next")))
