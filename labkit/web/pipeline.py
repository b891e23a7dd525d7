"""The pipeline page: compose source → task → rule → action from the block list, no code.

    GET  /pipeline                          the page (a student signed in; the teacher)
    GET  /api/pipeline/blocks               the block vocabulary and the kit's devices
    POST /api/pipeline/check {text}         → {ok, name, blocks} or 400 {error: {line, …}}
    POST /api/pipeline/save {text}          into the student's portfolio (docs/pipeline.md)
    GET  /api/pipeline/saved                the student's own (the teacher: everyone's)
    GET  /api/pipeline/saved/<student>/<name>
    POST /api/pipeline/run {text}           run it on the kit, in this process
    POST /api/pipeline/stop
    GET  /api/pipeline/state

A pipeline started here runs in the serving process against the runtime's own camera, pins
and detectors (the camera is never opened twice), under the pin lease: a lab in progress, a
student program or a pipeline started at boot in another process refuses it with who holds
the kit (409). The run belongs to whoever started it; they or the teacher stop it.
"""

from __future__ import annotations

import threading
from typing import Any

from flask import Blueprint, Response, jsonify, render_template
from flask_babel import gettext as _

from labkit.errors import LabkitError
from labkit.pipeline.blocks import BLOCKS, DEVICE_TYPES, vocabulary
from labkit.pipeline.book import PipelineBook
from labkit.pipeline.runner import PipelineRunner
from labkit.pipeline.spec import Pipeline, PipelineError, parse
from labkit.web import auth
from labkit.web.access import STUDENT, TEACHER, allow
from labkit.web.common import json_body, kit_runtime
from labkit.web.errors import json_error
from labkit.web.labs import current_student, is_teacher, need_student, store

bp = Blueprint("pipeline", __name__)


class PipelineRuns:
    """The one pipeline the page runs on this kit, and who started it (None: the teacher)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.runner: PipelineRunner | None = None
        self.owner: int | None = None

    def current(self) -> PipelineRunner | None:
        runner = self.runner
        return runner if runner is not None and runner.running else None

    def stop(self) -> bool:
        """Stop the page's pipeline (the teacher's "Ready for the next class"); was one
        running?"""
        runner = self.current()
        if runner is not None:
            runner.stop()
        return runner is not None

    def close(self) -> None:        # the runtime closes its services when the kit stops
        self.stop()


def runs() -> PipelineRuns:
    return kit_runtime().service("pipeline_runs", PipelineRuns)


def book() -> PipelineBook:
    return PipelineBook(store().artefacts.root)


def _text() -> str:
    text = json_body().get("text")
    if not isinstance(text, str) or not text.strip():
        raise LabkitError(_("There is no pipeline to check."), code="bad_input",
                          fix=_("Add blocks first."))
    return text


def _checked(text: str) -> Pipeline:
    return parse(text, wiring=kit_runtime().wiring)


@bp.errorhandler(PipelineError)
def _bad_pipeline(exc: PipelineError) -> Response:
    return json_error(exc.code, exc.message, 400, line=exc.line, problem=str(exc.problem),
                      fix=exc.fix)


def _summary(spec: Pipeline) -> dict[str, Any]:
    return {"ok": True, "name": spec.name, "title": spec.title,
            "blocks": [{"id": b.id, "block": b.type.name, "input": b.input, "params": b.params}
                       for b in sorted(spec.blocks, key=lambda b: b.index)]}


# ---- page -----------------------------------------------------------------------------------
@bp.get("/pipeline")
@allow(STUDENT, TEACHER)
def page() -> str:
    return render_template("pipeline/index.html", blocks=_blocks())


def _projects() -> list[dict[str, str]]:
    """The trained teachable projects this browser's pipelines may use: the student's own and
    the teacher's (the teacher: all)."""
    from labkit.learn.dataset import ProjectStore

    student = current_student()
    every = is_teacher()
    return [{"id": p["id"], "name": p["name"]}
            for p in ProjectStore(kit_runtime().settings.data_dir).list()
            if "error" not in p and p["trained"] and (
                every or p["owner"] is None or (student is not None and
                                                p["owner"] == student.id))]


def _blocks() -> dict[str, Any]:
    wiring = kit_runtime().wiring
    devices = {name: [n for n, s in wiring.devices.items() if s.type in types]
               for name, types in DEVICE_TYPES.items() if name in BLOCKS}
    return {"blocks": vocabulary(), "devices": devices, "projects": _projects()}


@bp.get("/api/pipeline/blocks")
@allow(STUDENT, TEACHER)
def blocks() -> Response:
    return jsonify(_blocks())


@bp.post("/api/pipeline/check")
@allow(STUDENT, TEACHER)
def check() -> Response:
    return jsonify(_summary(_checked(_text())))


# ---- the portfolio --------------------------------------------------------------------------
@bp.post("/api/pipeline/save")
@allow(STUDENT)
def save() -> Response:
    student = need_student()
    spec = book().save(student.id, _text(), wiring=kit_runtime().wiring)
    auth.grant("pipeline", f"{student.id}/{spec.name}")
    return jsonify({**_summary(spec), "saved": True})


@bp.get("/api/pipeline/saved")
@allow(STUDENT, TEACHER)
def saved_list() -> Response:
    if is_teacher():
        roster = {s.id: s.name for c in store().roster.classes()
                  for s in store().roster.students(c.id)}
        return jsonify({"pipelines": [{**s.summary(), "student": roster.get(s.student_id, "")}
                                      for s in book().everyone()]})
    student = need_student()
    every = auth.sees_all_work_of(student.id)
    mine = set() if every else auth.granted("pipeline")
    return jsonify({"pipelines": [s.summary() for s in book().list(student.id)
                                  if every or f"{student.id}/{s.name}" in mine]})


@bp.get("/api/pipeline/saved/<int:student_id>/<name>")
@allow(STUDENT, TEACHER)
def saved_open(student_id: int, name: str) -> Response:
    if not auth.may_open("pipeline", f"{student_id}/{name}", student_id):
        raise LabkitError(_("There is no such pipeline."), code="not_found",
                          fix=_("Open one from the list of saved pipelines."))
    saved = book().get(student_id, name)
    try:
        spec: dict[str, Any] = _summary(_checked(saved.text))
    except PipelineError:        # the kit's wiring changed since: open the text as it is
        spec = {"ok": False}
    return jsonify({**spec, **saved.summary(), "text": saved.text})


# ---- running on the kit ---------------------------------------------------------------------
@bp.post("/api/pipeline/run")
@allow(STUDENT, TEACHER)
def run() -> Response:
    spec = _checked(_text())
    student = current_student()
    owner = None if is_teacher() and student is None else need_student().id
    book_ = runs()
    with book_.lock:
        running = book_.current()
        if running is not None:
            raise LabkitError(_("A pipeline is already running on this kit."), code="busy",
                              fix=_("Stop it first."))
        runner = PipelineRunner(kit_runtime(), spec,
                                owner=student.name if student is not None else "",
                                student_id=owner, any_project=is_teacher())
        runner.start()
        book_.runner, book_.owner = runner, owner
    return jsonify(runner.state())


def _own_run() -> PipelineRunner:
    book_ = runs()
    runner = book_.current()
    student = current_student()
    mine = runner is not None and (is_teacher() or (student is not None and
                                                    student.id == book_.owner))
    if runner is None or not mine:
        raise LabkitError(_("You have no pipeline running."), code="not_found",
                          fix=_("Press Run first."))
    return runner


@bp.post("/api/pipeline/stop")
@allow(STUDENT, TEACHER)
def stop() -> Response:
    runner = _own_run()
    runner.stop()
    return jsonify(runner.state())


@bp.get("/api/pipeline/state")
@allow(STUDENT, TEACHER)
def state() -> Response:
    book_ = runs()
    runner = book_.current()
    if runner is None:
        return jsonify({"running": False})
    student = current_student()
    if is_teacher() or (student is not None and student.id == book_.owner):
        return jsonify(runner.state())
    return jsonify({"running": True, "mine": False})
