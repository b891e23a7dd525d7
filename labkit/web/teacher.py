"""The teacher area: the PIN (first setup, sign-in, change, recovery), the class roster (add,
rename, remove, import CSV) and how each class's students sign in.

The PIN is set on the kit's first visit to /teacher — from the kit itself (loopback) only — or
with `labkit teacher set-pin` in a shell on the kit, and stored only as a scrypt hash. New PINs
have at least 6 digits; an older shorter PIN keeps working, with a notice to change it.

Wrong PINs are counted per *account*, not per address (rotating addresses gains nothing), in one
database transaction before the PIN is checked, so concurrent guesses cannot outrun the count
(`labkit.store.pin.PinAttempts`). The kit's own screen (loopback) has its own counter: a child
at the kiosk cannot lock the teacher out of the other devices, nor the reverse. A forgotten PIN
is recovered with a one-time code that only someone at the kit can see: on its own screen, or
from `labkit teacher reset-pin`.

Teacher sessions are server-side (`web/auth.py`): sign-out, a PIN change and two idle hours
end them, whichever browser holds a copy of the cookie.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator

from flask import (Blueprint, Response, flash, redirect, render_template, request, session,
                   url_for)
from flask_babel import gettext as _
from werkzeug.wrappers import Response as WerkzeugResponse

from labkit.errors import LabkitError
from labkit.store import N_, Problem, RosterImportError
from labkit.store.pin import MIN_PIN_DIGITS, check_pin_format
from labkit.store.signin import MODES, PICTURES
from labkit.web import auth
from labkit.web.access import ANONYMOUS, KIT_LOCAL, TEACHER, allow, is_kit_local
from labkit.web.labs import is_teacher, safe_next, store, translate

bp = Blueprint("teacher", __name__, url_prefix="/teacher")


def _flash_error(exc: LabkitError) -> None:
    message, fix = translate(exc)
    flash(f"{message} {fix}".strip(), "error")
    if isinstance(exc, RosterImportError):
        for line, problem in exc.problems[:50]:
            msg, _fix = translate(problem)
            flash(_("Line %(line)s: %(message)s", line=line, message=msg), "error-line")


def _private(body: Any, status: int = 200) -> Response:
    """Teacher pages are never kept in a browser's or a proxy's cache."""
    response = body if isinstance(body, Response) else Response(body, status=status)
    response.headers["Cache-Control"] = "no-store"
    return response


def _signed_in(pin: str) -> None:
    auth.open_teacher_session()
    session["pin_short"] = len(pin) < MIN_PIN_DIGITS


# ---- PIN ------------------------------------------------------------------------------------
@bp.get("")
@allow(ANONYMOUS)
def index() -> Response:
    if not store().pin.is_set:
        if not is_kit_local():
            return _private(render_template("labs/teacher_setup.html", remote=True), 403)
        return _private(render_template("labs/teacher_setup.html"))
    if not is_teacher():
        return _private(render_template("labs/teacher_login.html",
                                        next=request.args.get("next", "")))
    from labkit.privacy import samples_expiry

    expiry = samples_expiry(store())
    return _private(render_template("labs/teacher_home.html", classes=store().roster.classes(),
                                    pin_short=bool(session.get("pin_short")),
                                    samples_expire_on=expiry.isoformat() if expiry else ""))


@bp.post("/setup")
@allow(KIT_LOCAL)
def setup() -> WerkzeugResponse:
    try:
        store().pin.set_first(request.form.get("pin", ""), request.form.get("confirm", ""))
    except Problem as exc:
        message, fix = translate(exc)
        return _private(render_template("labs/teacher_setup.html",
                                        error=f"{message} {fix}".strip()),
                        409 if exc.code == "conflict" else 400)
    _signed_in(request.form.get("pin", ""))
    flash(_("The teacher PIN is set. Keep it to yourself."), "ok")
    return redirect(url_for("teacher.index"))


def _check_pin(typed: str) -> tuple[str, int] | None:
    """Count and check one PIN try; None if right, else (message, HTTP status)."""
    counter = auth.pin_counter()
    try:
        left = store().pin_attempts.reserve(counter)
    except Problem as exc:
        return translate(exc)[0], 429
    if store().pin.verify(typed):
        store().pin_attempts.succeeded(counter)
        return None
    if left:
        return _("Wrong PIN. %(left)s more tries before a short wait.", left=left), 403
    return _("Wrong PIN. Too many tries: wait a little before the next one."), 403


@bp.post("/login")
@allow(ANONYMOUS)
def login() -> WerkzeugResponse:
    nxt = request.form.get("next", "")
    pin = request.form.get("pin", "")
    refused = _check_pin(pin)
    if refused is not None:
        return _private(render_template("labs/teacher_login.html", error=refused[0], next=nxt),
                        refused[1])
    _signed_in(pin)
    return redirect(safe_next(nxt, inside="/teacher", fallback="teacher.index"))


@bp.post("/logout")
@allow(ANONYMOUS)
def logout() -> WerkzeugResponse:
    auth.end_teacher_session()
    session.pop("pin_short", None)
    return redirect(url_for("home.index"))


@bp.get("/pin")
@allow(TEACHER)
def pin_page() -> Response:
    return _private(render_template("labs/teacher_pin.html"))


@bp.post("/pin")
@allow(TEACHER)
def change_pin() -> WerkzeugResponse:
    """A new PIN ends every teacher session, on every device; this browser gets a new one."""
    new, confirm = request.form.get("pin", ""), request.form.get("confirm", "")
    refused = _check_pin(request.form.get("current", ""))
    error = refused[0] if refused else None
    if error is None:
        try:
            store().change_pin(new, confirm)
        except Problem as exc:
            message, fix = translate(exc)
            error = f"{message} {fix}".strip()
    if error is not None:
        return _private(render_template("labs/teacher_pin.html", error=error), 400)
    _signed_in(new)
    flash(_("The PIN is changed. Every other teacher sign-in has ended."), "ok")
    return redirect(url_for("teacher.index"))


@bp.get("/recover")
@allow(ANONYMOUS)
def recover_page() -> Response:
    return _private(render_template("labs/teacher_recover.html", on_kit=is_kit_local()))


@bp.post("/recover/code")
@allow(KIT_LOCAL)
def recover_code() -> Response:
    """Show a one-time recovery code on the kit's own screen (loopback only)."""
    code = store().pin_recovery.new_code()
    return _private(render_template("labs/teacher_recover.html", on_kit=True, code=code))


@bp.post("/recover")
@allow(ANONYMOUS)
def recover() -> WerkzeugResponse:
    new, confirm = request.form.get("pin", ""), request.form.get("confirm", "")
    try:
        check_pin_format(new)
        if new != confirm:
            raise Problem(N_("The two PINs are not the same."), fix=N_("Type the same PIN twice."),
                          code="bad_pin")
        store().pin_recovery.consume(request.form.get("code", ""))
        store().change_pin(new, confirm)
    except Problem as exc:
        message, fix = translate(exc)
        return _private(render_template("labs/teacher_recover.html", on_kit=is_kit_local(),
                                        error=f"{message} {fix}".strip()), 400)
    store().pin_attempts.succeeded(auth.pin_counter())
    _signed_in(new)
    flash(_("The new PIN is set. Every other teacher sign-in has ended."), "ok")
    return redirect(url_for("teacher.index"))


# ---- roster --------------------------------------------------------------------------------
@contextmanager
def _back_to_roster(class_id: int) -> Iterator[WerkzeugResponse]:
    """Run a roster change; a bad name becomes a message on the roster page. A class or
    student that is not there (e.g. another class's student id) stays a 404."""
    try:
        yield redirect(url_for("teacher.roster", class_id=class_id))
    except Problem as exc:
        if exc.code == "not_found":
            raise
        _flash_error(exc)


@bp.post("/classes")
@allow(TEACHER)
def add_class() -> WerkzeugResponse:
    try:
        created = store().roster.add_class(request.form.get("name", ""))
    except Problem as exc:
        _flash_error(exc)
        return redirect(url_for("teacher.index"))
    flash(_("Class %(name)s added.", name=created.name), "ok")
    return redirect(url_for("teacher.roster", class_id=created.id))


@bp.get("/classes/<int:class_id>")
@allow(TEACHER)
def roster(class_id: int) -> Response:
    school_class = store().roster.get_class(class_id)
    students = store().roster.students(class_id)
    sign_in = store().sign_in
    return _private(render_template(
        "labs/teacher_roster.html", school_class=school_class, students=students,
        sign_in_mode=sign_in.mode(class_id), class_code=sign_in.code(class_id), modes=MODES,
        roster_order=store().roster.order(class_id),
        pictures=PICTURES, picture_names=picture_names(),
        student_pictures={s.id: sign_in.pictures_of(s.id) for s in students}))


def picture_names() -> dict[str, str]:
    """The nine pictures' names in the page's language (the child hears/reads them)."""
    return {"sun": _("sun"), "moon": _("moon"), "star": _("star"), "tree": _("tree"),
            "fish": _("fish"), "cat": _("cat"), "car": _("car"), "apple": _("apple"),
            "flower": _("flower")}


@bp.post("/classes/<int:class_id>/sign-in")
@allow(TEACHER)
def set_sign_in(class_id: int) -> WerkzeugResponse:
    """Choose how this class's students prove who they are (or make a new class code)."""
    store().roster.get_class(class_id)
    with _back_to_roster(class_id) as back:
        store().sign_in.set_mode(class_id, request.form.get("mode", ""))
        store().sessions.end_students_of_class(class_id)
        flash(_("Sign-in for this class is changed."), "ok")
    return back


@bp.post("/classes/<int:class_id>/order")
@allow(TEACHER)
def set_roster_order(class_id: int) -> WerkzeugResponse:
    """Choose the order the class's names are listed in (学号, import order or pinyin)."""
    store().roster.get_class(class_id)
    with _back_to_roster(class_id) as back:
        store().roster.set_order(class_id, request.form.get("order", ""))
        flash(_("The names are listed in the new order."), "ok")
    return back


@bp.post("/classes/<int:class_id>/pictures")
@allow(TEACHER)
def generate_pictures(class_id: int) -> WerkzeugResponse:
    """Give a random picture password to every student of the class who has none."""
    students = store().roster.students(class_id)
    missing = [s.id for s in students if store().sign_in.pictures_of(s.id) is None]
    store().sign_in.generate_pictures(missing)
    flash(_("%(count)s picture passwords made. Print the cards for the class.",
            count=len(missing)), "ok")
    return redirect(url_for("teacher.roster", class_id=class_id))


@bp.post("/classes/<int:class_id>/students/<int:student_id>/pictures")
@allow(TEACHER)
def set_student_pictures(class_id: int, student_id: int) -> WerkzeugResponse:
    student = store().roster.student(class_id, student_id)
    with _back_to_roster(class_id) as back:
        store().sign_in.set_pictures(student.id, request.form.getlist("picture"))
        store().sessions.end_student(student.id)
        flash(_("Picture password of %(name)s saved.", name=student.name), "ok")
    return back


@bp.get("/classes/<int:class_id>/pictures/print")
@allow(TEACHER)
def print_pictures(class_id: int) -> Response:
    """Printable cards: each child's name and their two pictures."""
    school_class = store().roster.get_class(class_id)
    students = store().roster.students(class_id)
    cards = [(s, store().sign_in.pictures_of(s.id)) for s in students]
    return _private(render_template("labs/teacher_pictures_print.html",
                                    school_class=school_class, cards=cards,
                                    picture_names=picture_names()))


def learn_projects() -> Any:
    """The kit's shared /learn projects (imported late: the learn blueprint imports ours)."""
    from labkit.web.learn import projects

    return projects()


@bp.post("/classes/<int:class_id>/delete")
@allow(TEACHER)
def delete_class(class_id: int) -> WerkzeugResponse:
    school_class = store().roster.get_class(class_id)
    if request.form.get("confirm") != school_class.name:
        flash(_("Type the class name to confirm; nothing was deleted."), "error")
        return redirect(url_for("teacher.roster", class_id=class_id))
    students = store().roster.students(class_id)
    store().delete_class(class_id)
    for student in students:
        learn_projects().delete_owned_by(student.id)
    flash(_("Class %(name)s and its portfolios were deleted.", name=school_class.name), "ok")
    return redirect(url_for("teacher.index"))


@bp.post("/classes/<int:class_id>/students")
@allow(TEACHER)
def add_student(class_id: int) -> WerkzeugResponse:
    with _back_to_roster(class_id) as back:
        student = store().roster.add_student(class_id, request.form.get("name", ""))
        flash(_("%(name)s added.", name=student.name), "ok")
    return back


@bp.post("/classes/<int:class_id>/students/<int:student_id>/rename")
@allow(TEACHER)
def rename_student(class_id: int, student_id: int) -> WerkzeugResponse:
    """Edit one student: their name and, when the form sends one, their 学号."""
    with _back_to_roster(class_id) as back:
        before = store().roster.student(class_id, student_id)
        if "student_no" in request.form:
            store().roster.set_student_no(class_id, student_id, request.form["student_no"])
        student = store().roster.student(class_id, student_id)
        if request.form.get("name", "") != before.name:
            student = store().roster.rename_student(class_id, student_id,
                                                    request.form.get("name", ""))
        flash(_("Saved: %(name)s.", name=student.name), "ok")
    return back


@bp.post("/classes/<int:class_id>/students/<int:student_id>/delete")
@allow(TEACHER)
def delete_student(class_id: int, student_id: int) -> WerkzeugResponse:
    student = store().roster.student(class_id, student_id)  # other class → 404, nothing deleted
    store().delete_student(class_id, student_id)
    learn_projects().delete_owned_by(student_id)
    flash(_("%(name)s and their portfolio were removed.", name=student.name), "ok")
    return redirect(url_for("teacher.roster", class_id=class_id))


@bp.post("/classes/<int:class_id>/students/<int:student_id>/purge")
@allow(TEACHER)
def purge_student(class_id: int, student_id: int) -> WerkzeugResponse:
    """Erase a child's runs, kept files, samples and models; the name stays on the roster."""
    from labkit.privacy import purge_student as purge

    student = store().roster.student(class_id, student_id)  # other class → 404, nothing erased
    from labkit.fleet.state import RoomState

    done = purge(store(), learn_projects(), student.id, collected=RoomState(store().data_dir))
    flash(_("All data of %(name)s was erased: %(runs)s runs, %(files)s kept files, "
            "%(projects)s projects.", name=student.name, runs=done.runs, files=done.files,
            projects=done.projects), "ok")
    return redirect(url_for("teacher.roster", class_id=class_id))


@bp.post("/retention")
@allow(TEACHER)
def set_retention() -> WerkzeugResponse:
    """The day samples saved before it are erased (the end of a term); empty: keep them."""
    from labkit.privacy import expire_samples, set_samples_expiry

    try:
        when = set_samples_expiry(store(), request.form.get("expire_on", ""))
    except Problem as exc:
        _flash_error(exc)
        return redirect(url_for("teacher.index"))
    removed = expire_samples(store(), learn_projects())
    if when is None:
        flash(_("Samples are kept until you remove them."), "ok")
    else:
        flash(_("Samples saved before %(day)s are erased on that day (%(count)s erased now).",
                day=when.isoformat(), count=removed), "ok")
    return redirect(url_for("teacher.index"))


@bp.post("/classes/<int:class_id>/import")
@allow(TEACHER)
def import_roster(class_id: int) -> WerkzeugResponse:
    store().roster.get_class(class_id)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        flash(_("Choose a CSV or Excel file with the class list first."), "error")
        return redirect(url_for("teacher.roster", class_id=class_id))
    try:
        added = store().roster.import_csv(class_id, upload.read())
    except Problem as exc:
        _flash_error(exc)
        return redirect(url_for("teacher.roster", class_id=class_id))
    flash(_("%(count)s students imported.", count=len(added)), "ok")
    return redirect(url_for("teacher.roster", class_id=class_id))


@bp.post("/classes/<int:class_id>/paste")
@allow(TEACHER)
def paste_roster(class_id: int) -> WerkzeugResponse:
    """Add the names pasted into the box (one per line, optionally after the 学号)."""
    store().roster.get_class(class_id)
    try:
        added = store().roster.import_pasted(class_id, request.form.get("names", ""))
    except Problem as exc:
        _flash_error(exc)
        return redirect(url_for("teacher.roster", class_id=class_id))
    flash(_("%(count)s students imported.", count=len(added)), "ok")
    return redirect(url_for("teacher.roster", class_id=class_id))
