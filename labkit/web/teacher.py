"""The minimal teacher area: the PIN, and the class roster (add, rename, remove, import CSV).

The PIN is set on the kit's first visit to /teacher — from the kit itself (loopback) only — or
with `labkit teacher set-pin` in a shell on the kit, and stored only as a scrypt hash. Wrong
PINs are rate-limited per browser address: after a few tries the next one must wait, and the
wait doubles, so guessing a 4-digit PIN takes days instead of minutes. A signed-in teacher
stays signed in for a school day in that browser. (The full teacher console — labs on/off,
reset, packs — is a later issue.)
"""

from __future__ import annotations

import ipaddress
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response as WerkzeugResponse

from labkit.errors import LabkitError
from labkit.store import N_, Problem, RosterImportError
from labkit.web.labs import is_teacher, safe_next, store, teacher_required, translate

bp = Blueprint("teacher", __name__, url_prefix="/teacher")

TEACHER_SESSION_SECONDS = 8 * 3600
FREE_TRIES = 5
FIRST_WAIT_S = 30.0
MAX_WAIT_S = 15 * 60.0


@dataclass
class _Tries:
    failures: int = 0
    locked_until: float = 0.0


class PinGuard:
    """Counts wrong PINs per client address and makes them wait, doubling each time."""

    def __init__(self, clock: callable = time.monotonic) -> None:  # type: ignore[valid-type]
        self._clock = clock
        self._tries: dict[str, _Tries] = {}
        self._lock = threading.Lock()

    def check(self, who: str) -> None:
        with self._lock:
            t = self._tries.get(who)
            wait = (t.locked_until - self._clock()) if t else 0
        if wait > 0:
            raise Problem(N_("Too many wrong PINs. Try again in %(seconds)s seconds."),
                          code="too_many", seconds=int(wait) + 1)

    def failed(self, who: str) -> int:
        """Record a wrong PIN; returns how many tries are left before a wait (0 = waiting)."""
        with self._lock:
            t = self._tries.setdefault(who, _Tries())
            t.failures += 1
            over = t.failures - FREE_TRIES
            if over >= 0:
                t.locked_until = self._clock() + min(MAX_WAIT_S, FIRST_WAIT_S * 2 ** over)
                return 0
            return FREE_TRIES - t.failures

    def succeeded(self, who: str) -> None:
        with self._lock:
            self._tries.pop(who, None)


guard = PinGuard()


def _who() -> str:
    return request.remote_addr or "?"


def _flash_error(exc: LabkitError) -> None:
    message, fix = translate(exc)
    flash(f"{message} {fix}".strip(), "error")
    if isinstance(exc, RosterImportError):
        for line, problem in exc.problems[:50]:
            msg, _fix = translate(problem)
            flash(_("Line %(line)s: %(message)s", line=line, message=msg), "error-line")


# ---- PIN ------------------------------------------------------------------------------------
def _on_the_kit() -> bool:
    """Is this request from the kit itself (its own screen/kiosk browser)? The first PIN may
    only be chosen there, so a student on the classroom network cannot claim the kit."""
    addr = request.remote_addr or ""
    return ipaddress.ip_address(addr).is_loopback if addr else False


@bp.get("")
def index() -> str | tuple[str, int]:
    if not store().pin.is_set:
        if not _on_the_kit():
            return render_template("labs/teacher_setup.html", remote=True), 403
        return render_template("labs/teacher_setup.html")
    if not is_teacher():
        return render_template("labs/teacher_login.html", next=request.args.get("next", ""))
    return render_template("labs/teacher_home.html", classes=store().roster.classes())


@bp.post("/setup")
def setup() -> WerkzeugResponse | tuple[str, int]:
    if not _on_the_kit():
        return render_template("labs/teacher_setup.html", remote=True), 403
    try:
        store().pin.set_first(request.form.get("pin", ""), request.form.get("confirm", ""))
    except Problem as exc:
        message, fix = translate(exc)
        return render_template("labs/teacher_setup.html", error=f"{message} {fix}".strip()), \
            (409 if exc.code == "conflict" else 400)
    session["teacher_until"] = time.time() + TEACHER_SESSION_SECONDS
    flash(_("The teacher PIN is set. Keep it to yourself."), "ok")
    return redirect(url_for("teacher.index"))


@bp.post("/login")
def login() -> WerkzeugResponse | tuple[str, int]:
    who = _who()
    nxt = request.form.get("next", "")
    try:
        guard.check(who)
    except Problem as exc:
        message, _fix = translate(exc)
        return render_template("labs/teacher_login.html", error=message, next=nxt), 429
    if not store().pin.verify(request.form.get("pin", "")):
        left = guard.failed(who)
        if left:
            error = _("Wrong PIN. %(left)s more tries before a short wait.", left=left)
        else:
            error = _("Wrong PIN. Too many tries: wait a little before the next one.")
        return render_template("labs/teacher_login.html", error=error, next=nxt), 403
    guard.succeeded(who)
    session["teacher_until"] = time.time() + TEACHER_SESSION_SECONDS
    return redirect(safe_next(nxt, inside="/teacher", fallback="teacher.index"))


@bp.post("/logout")
def logout() -> WerkzeugResponse:
    session.pop("teacher_until", None)
    return redirect(url_for("home.index"))


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
@teacher_required
def add_class() -> WerkzeugResponse:
    try:
        created = store().roster.add_class(request.form.get("name", ""))
    except Problem as exc:
        _flash_error(exc)
        return redirect(url_for("teacher.index"))
    flash(_("Class %(name)s added.", name=created.name), "ok")
    return redirect(url_for("teacher.roster", class_id=created.id))


@bp.get("/classes/<int:class_id>")
@teacher_required
def roster(class_id: int) -> str:
    school_class = store().roster.get_class(class_id)
    return render_template("labs/teacher_roster.html", school_class=school_class,
                           students=store().roster.students(class_id))


@bp.post("/classes/<int:class_id>/delete")
@teacher_required
def delete_class(class_id: int) -> WerkzeugResponse:
    school_class = store().roster.get_class(class_id)
    if request.form.get("confirm") != school_class.name:
        flash(_("Type the class name to confirm; nothing was deleted."), "error")
        return redirect(url_for("teacher.roster", class_id=class_id))
    store().delete_class(class_id)
    flash(_("Class %(name)s and its portfolios were deleted.", name=school_class.name), "ok")
    return redirect(url_for("teacher.index"))


@bp.post("/classes/<int:class_id>/students")
@teacher_required
def add_student(class_id: int) -> WerkzeugResponse:
    with _back_to_roster(class_id) as back:
        student = store().roster.add_student(class_id, request.form.get("name", ""))
        flash(_("%(name)s added.", name=student.name), "ok")
    return back


@bp.post("/classes/<int:class_id>/students/<int:student_id>/rename")
@teacher_required
def rename_student(class_id: int, student_id: int) -> WerkzeugResponse:
    with _back_to_roster(class_id) as back:
        student = store().roster.rename_student(class_id, student_id, request.form.get("name", ""))
        flash(_("Renamed to %(name)s.", name=student.name), "ok")
    return back


@bp.post("/classes/<int:class_id>/students/<int:student_id>/delete")
@teacher_required
def delete_student(class_id: int, student_id: int) -> WerkzeugResponse:
    student = store().roster.student(class_id, student_id)  # other class → 404, nothing deleted
    store().delete_student(class_id, student_id)
    flash(_("%(name)s and their portfolio were removed.", name=student.name), "ok")
    return redirect(url_for("teacher.roster", class_id=class_id))


@bp.post("/classes/<int:class_id>/import")
@teacher_required
def import_roster(class_id: int) -> WerkzeugResponse:
    store().roster.get_class(class_id)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        flash(_("Choose a CSV file with the class list first."), "error")
        return redirect(url_for("teacher.roster", class_id=class_id))
    try:
        added = store().roster.import_csv(class_id, upload.read())
    except Problem as exc:
        _flash_error(exc)
        return redirect(url_for("teacher.roster", class_id=class_id))
    flash(_("%(count)s students imported.", count=len(added)), "ok")
    return redirect(url_for("teacher.roster", class_id=class_id))
