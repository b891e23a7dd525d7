"""The teacher's export passphrase, and how every export route hands a file out.

Every route that lets a file leave the kit (portfolio CSV/ZIP, grade sheets, the
implementation report, the room export) answers through `deliver`: an AES-256 ZIP under the
export passphrase by default (`labkit.exportlock`), a plain file only when the teacher sent
`plain=understood` — the checkbox "I understand this file is not protected" on the page. With
no passphrase set the export is refused (409) with a link to set one, never silently plain.

A student downloading their own portfolio gets it encrypted with the same passphrase (the
teacher opens it), or plain if the teacher allowed plain student downloads in the settings.
"""

from __future__ import annotations

from typing import Mapping
from urllib.parse import quote

from flask import (Blueprint, Response, flash, redirect, render_template, request, url_for)
from flask_babel import gettext as _
from werkzeug.wrappers import Response as WerkzeugResponse

from labkit import exportlock
from labkit.errors import LabkitError
from labkit.store import N_, Problem
from labkit.web.access import TEACHER, allow
from labkit.web.errors import wants_json
from labkit.web.labs import is_teacher, store, translate

bp = Blueprint("exports", __name__, url_prefix="/teacher/exports")

PLAIN_PARAM = "plain"
PLAIN_CONFIRMED = "understood"


def attachment(data: bytes, filename: str, mime: str) -> Response:
    """`data` as a download named `filename` (UTF-8 names kept for browsers that read them)."""
    response = Response(data, mimetype=mime)
    ascii_name = filename.encode("ascii", "replace").decode().replace("?", "_")
    response.headers["Content-Disposition"] = (
        f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}")
    response.headers["Cache-Control"] = "private, no-store"
    return response


def current_lock() -> exportlock.ExportLock:
    return exportlock.load(store().data_dir)


def _private(body: str, status: int = 200) -> Response:
    response = Response(body, status=status, mimetype="text/html")
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _no_passphrase(teacher: bool) -> Response:
    message = (_("No export passphrase is set yet, so this file cannot be downloaded "
                 "encrypted.") if teacher else
               _("Your teacher has not set an export passphrase yet, so your portfolio "
                 "cannot be downloaded."))
    fix = (_("Set the export passphrase first (Teacher → Export passphrase).") if teacher else
           _("Ask your teacher to set the export passphrase."))
    if wants_json():
        raise LabkitError(message, fix=fix, code="conflict")
    return _private(render_template("exports/need_passphrase.html", message=message, fix=fix,
                                    teacher=teacher), 409)


def deliver(files: Mapping[str, bytes], encrypted_name: str, *, plain_data: bytes,
            plain_name: str, plain_mime: str) -> Response:
    """An export: `files` in an AES ZIP named `encrypted_name` (entry names and this name must
    not carry a child's name), or `plain_data` as `plain_name` by explicit choice."""
    choice = request.args.get(PLAIN_PARAM)
    teacher = is_teacher()
    lock = current_lock()
    if choice is not None:
        if not teacher:
            raise Problem(N_("Only the teacher can download a file without encryption."),
                          code="forbidden")
        if choice != PLAIN_CONFIRMED:
            raise Problem(N_("A file without encryption needs your explicit choice."),
                          fix=N_("Tick “I understand this file is not protected” and "
                                 "download again."), code="bad_input")
        return attachment(plain_data, plain_name, plain_mime)
    if not teacher and lock.students_plain:
        return attachment(plain_data, plain_name, plain_mime)
    if not lock.is_set:
        return _no_passphrase(teacher)
    assert lock.passphrase is not None
    return attachment(exportlock.encrypted_zip(files, lock.passphrase), encrypted_name,
                      "application/zip")


@bp.app_template_global()
def export_passphrase_set() -> bool:
    """For the export buttons: whether a download can be encrypted now."""
    return current_lock().is_set


# ---- settings --------------------------------------------------------------------------------
def _settings_page(error: str | None = None, status: int = 200) -> Response:
    lock = current_lock()
    return _private(render_template("exports/settings.html", is_set=lock.is_set,
                                    students_plain=lock.students_plain, error=error,
                                    min_length=exportlock.MIN_LENGTH), status)


@bp.get("")
@allow(TEACHER)
def settings_page() -> Response:
    return _settings_page()


@bp.post("/passphrase")
@allow(TEACHER)
def set_passphrase() -> Response | WerkzeugResponse:
    try:
        exportlock.set_passphrase(store().data_dir, request.form.get("passphrase", ""),
                                  request.form.get("confirm", ""))
    except LabkitError as exc:
        message, fix = translate(exc)
        return _settings_page(f"{message} {fix}".strip(), 400)
    flash(_("The export passphrase is saved. Exports from now on are locked with it."), "ok")
    return redirect(url_for("exports.settings_page"))


@bp.post("/students")
@allow(TEACHER)
def set_students_plain() -> WerkzeugResponse:
    allowed = request.form.get("students_plain") == "yes"
    exportlock.set_students_plain(store().data_dir, allowed)
    flash(_("Students download their own portfolio without encryption.") if allowed else
          _("Students' own portfolio downloads are encrypted with the export passphrase."),
          "ok")
    return redirect(url_for("exports.settings_page"))
