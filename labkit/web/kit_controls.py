"""Kit controls on the teacher console: a fresh term (reset), switching the kit off, restarting.

A reset removes every class with its students, runs, portfolio files, showcase cards and
/learn projects, and stops a running lab; the PIN, lab packs and models stay. It is confirmed
by typing a word, so a stray click cannot empty the kit. Switching off and restarting go
through `labkit.drivers.power` (constant argv; recorded, not run, in simulation), for the
teacher or from the kit itself (its own screen: the kiosk has no other way to shut down
cleanly).
"""

from __future__ import annotations

import logging
import time
from typing import Any

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response as WerkzeugResponse

from labkit.drivers.power import power_for
from labkit.store.term_reset import reset_term
from labkit.web.access import KIT_LOCAL, TEACHER, allow, is_kit_local
from labkit.web.common import kit_runtime
from labkit.web.labs import is_teacher, runner, store

log = logging.getLogger(__name__)
bp = Blueprint("kit_controls", __name__, url_prefix="/teacher/kit")

# The word typed to confirm a reset: the Chinese word or the English one, whichever the
# teacher reads on the page.
CONFIRM_WORDS = ("重置", "RESET")


def power() -> Any:
    runtime = kit_runtime()
    return runtime.service("power", lambda: power_for(runtime.hardware))


@bp.get("")
@allow(TEACHER, KIT_LOCAL)
def kit_page() -> Response:
    response = Response(render_template("console/kit.html", teacher=is_teacher(),
                                        on_kit=is_kit_local(),
                                        classes=len(store().roster.classes())))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/reset")
@allow(TEACHER)
def reset() -> WerkzeugResponse:
    typed = request.form.get("confirm", "").strip()
    if typed.upper() not in CONFIRM_WORDS:
        flash(_("Type the word shown to confirm; nothing was removed."), "error")
        return redirect(url_for("kit_controls.kit_page"))
    started = time.monotonic()
    active = runner().active
    if active is not None:
        runner().stop("stopped", run_id=active.run_id)
    from labkit.web.teacher import learn_projects

    projects = learn_projects()
    removed_projects = 0
    for item in projects.list():
        projects.delete(item["id"])
        removed_projects += 1
    done = reset_term(store())
    log.info("kit reset for a new term in %.2f s: %d classes, %d students, %d runs, %d files, "
             "%d projects", time.monotonic() - started, done.classes, done.students, done.runs,
             done.files, removed_projects)
    flash(_("The kit is ready for a new term: %(classes)s classes, %(students)s students, "
            "%(runs)s lab runs and %(projects)s projects were removed.", classes=done.classes,
            students=done.students, runs=done.runs, projects=removed_projects), "ok")
    return redirect(url_for("home.index"))


def _power(action: str) -> Response:
    power().request(action)
    message = (_("The kit is switching off. Wait until its light stops blinking before "
                 "unplugging it.") if action == "poweroff"
               else _("The kit is restarting. This page works again in about a minute."))
    response = Response(render_template("console/kit_power.html", message=message))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/poweroff")
@allow(TEACHER, KIT_LOCAL)
def poweroff() -> Response:
    return _power("poweroff")


@bp.post("/reboot")
@allow(TEACHER, KIT_LOCAL)
def reboot() -> Response:
    return _power("reboot")
