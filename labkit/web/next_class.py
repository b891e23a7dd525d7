"""Ready for the next class: one teacher button that leaves the kit as a new class finds it.

    POST /teacher/kit/next-class      (teacher; `?format=json` answers with what was done)

It stops the running lab run (its results are already committed step by step), the student
program in the sandbox, a pipeline started from the pipeline page, a training job, the scene
or demo on the camera, and switches the bench outputs off. A pipeline kept for boot
(`labkit pipeline enable`) then starts again, as it does when the kit is switched on. It
drops what lives only in memory — the learn page's exports not yet downloaded (they may hold
samples), live predictors, the sensor buffer, the recent program runs' output, the sound
page's word → action choices. It ends the running class session, signs every student out,
and tells every open page (the `kit.reset` event) to go back to the home page and its name
picker.

What students saved is kept: /learn projects with their samples and models (the retention
pass of labkit/privacy.py removes old ones), portfolios, runs, scores, the roster. Emptying
the kit for a new term is `kit_controls.reset`.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from flask import (Blueprint, Response, current_app, flash, jsonify, redirect, request,
                   url_for)
from flask_babel import gettext as _
from werkzeug.wrappers import Response as WerkzeugResponse

from labkit.store.next_class import end_class
from labkit.web.access import TEACHER, allow, is_kit_local
from labkit.web.common import kit_runtime
from labkit.web.labs import runner, store

log = logging.getLogger(__name__)
bp = Blueprint("next_class", __name__, url_prefix="/teacher/kit")

RESET_TOPIC = "kit.reset"


def ready_for_next_class() -> dict[str, Any]:
    """Do the reset; returns what was stopped and cleared, and the seconds it took."""
    started = time.monotonic()
    rt = kit_runtime()
    done: dict[str, Any] = {}
    active = runner().active
    done["lab_stopped"] = bool(active is not None
                               and runner().stop("stopped", run_id=active.run_id))
    sandbox = rt.services.get("sandbox")
    programs = len(sandbox.running) if sandbox is not None else 0
    if sandbox is not None:
        sandbox.stop_all()
    code_runs = rt.services.pop("code_runs", None)   # the recent runs' output, in memory
    done["programs_stopped"] = programs
    done["program_runs_cleared"] = int(code_runs is not None)
    pipelines = rt.services.get("pipeline_runs")      # a pipeline the page started
    done["pipeline_stopped"] = bool(pipelines is not None and pipelines.stop())
    learn = rt.services.get("learn")
    done["learn"] = (learn.forget_temporary() if learn is not None else
                     {"training_stopped": 0, "jobs": 0, "exports": 0})
    audio = rt.services.get("audio")
    if audio is not None:
        audio.reset_bindings()
    done["audio_choices_reset"] = audio is not None
    from labkit.web.scenes import stop_shows

    done["camera_show_stopped"] = stop_shows(rt.camera)
    rt.kit.reset_outputs()
    # a pipeline kept for boot is part of the kit as a class finds it: it starts again, its
    # counts from zero (a page's own pipeline stays stopped)
    from labkit.web.pipeline import start_boot_pipeline

    again = start_boot_pipeline(current_app._get_current_object())
    done["boot_pipeline_started"] = again.pipeline.name if again is not None else None
    ended = end_class(store())
    done["sessions_ended"] = ended.sessions_ended
    done["students_signed_out"] = ended.students_signed_out
    rt.bus.publish(RESET_TOPIC, {"home": url_for("home.index")})
    done["seconds"] = round(time.monotonic() - started, 3)
    log.info("kit ready for the next class in %.2f s: %s", done["seconds"], done)
    return done


@bp.post("/next-class")
@allow(TEACHER)
def next_class() -> WerkzeugResponse | Response:
    done = ready_for_next_class()
    if request.args.get("format") == "json":
        return jsonify(done)
    flash(_("The kit is ready for the next class (%(seconds)s s): %(sessions)s lessons ended, "
            "%(students)s students signed out. Portfolios and projects are kept.",
            seconds="%.1f" % done["seconds"], sessions=done["sessions_ended"],
            students=done["students_signed_out"]), "ok")
    # on the kit's own screen the next class starts at the home page; elsewhere the teacher
    # stays on the console and reads what was done (students' pages go home on the event)
    if is_kit_local():
        return redirect(url_for("home.index"))
    return redirect(url_for("kit_controls.kit_page"))
