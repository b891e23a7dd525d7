"""The code lab: write a Python program on the page, run it in the sandbox, see the bench move.

    GET  /code[?tab=blocks]                 the editor page (Blocks | Python tabs)
    POST /api/code/run {source, name?, blocks?}  → {run_id}; one program at a time on a kit
                                            (blocks: true when the source came from blocks)
    GET  /api/code/runs/<id>/events         SSE: start, protection, stdout/stderr lines, exit
    POST /api/code/runs/<id>/stop
    GET  /api/code/examples[/<id>]          the example programs
    GET  /api/code/programs                 the student's saved programs
    POST /api/code/programs {name, source, blocks?, id?}   blocks: the Blockly workspace
    GET  /api/code/programs/<id>

A run belongs to the student who started it (and the teacher); another student's run is
answered 404. The program reaches the kit's hardware through `runtime.kit_link`, under the
pin lease: a lab in progress refuses it with the lease message, in the program's output —
except the student's own lab that welcomes programs (`programs: true` in its lab.yaml): the
program then runs under that lab's lease and the lab's log records what it drives. Every run
is announced on the bus as `code.program` ({state: started|ended, reason, blocks,
student_id}), for such labs' `events:`.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections import OrderedDict
from typing import Any, Iterator

from flask import Blueprint, Response, jsonify, render_template, request, url_for
from flask_babel import gettext as _

from labkit.drivers.pins import Holder
from labkit.errors import LabkitError
from labkit.sandbox import examples as examples_mod
from labkit.sandbox.programs import ProgramBook
from labkit.sandbox.runner import ProgramRun, SandboxBusy, SandboxError
from labkit.web import auth
from labkit.web.access import STUDENT, TEACHER, allow
from labkit.web.code_blocks import blocks_config
from labkit.web.common import json_body, kit_runtime
from labkit.web.handoff import AsyncSink, StreamClosed, stream_response, wait_event
from labkit.web.labs import current_student, is_teacher, need_student, runner, store

bp = Blueprint("code", __name__)

HEARTBEAT_SECONDS = 10.0
KEEP_RUNS = 20


class RunBook:
    """The kit's recent program runs and who started each (the last KEEP_RUNS)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._runs: OrderedDict[int, tuple[ProgramRun, int]] = OrderedDict()

    def add(self, run: ProgramRun, student_id: int) -> None:
        with self._lock:
            self._runs[run.id] = (run, student_id)
            while len(self._runs) > KEEP_RUNS:
                self._runs.popitem(last=False)

    def get(self, run_id: int) -> tuple[ProgramRun, int] | None:
        with self._lock:
            return self._runs.get(run_id)


def runs() -> RunBook:
    return kit_runtime().service("code_runs", RunBook)


def programs() -> ProgramBook:
    return ProgramBook(store().artefacts.root)


def _own_run(run_id: int) -> ProgramRun:
    entry = runs().get(run_id)
    me = current_student()
    if entry is None or not (is_teacher() or (me is not None and me.id == entry[1])):
        raise LabkitError(_("There is no such run."), code="not_found",
                          fix=_("Run the program again."))
    return entry[0]


# ---- page -----------------------------------------------------------------------------------
@bp.get("/code")
@allow(STUDENT)
def page() -> str:
    examples = [{"id": e.id, "title": str(e.title), "kind": e.kind}
                for e in examples_mod.EXAMPLES]
    config = blocks_config(kit_runtime().wiring,
                           url_for("static", filename="vendor/blockly/media/"))
    config["start"] = "blocks" if request.args.get("tab") == "blocks" else "python"
    return render_template("code/index.html", examples=examples,
                           limits=kit_runtime().sandbox.limits, blocks_config=config)


# ---- running --------------------------------------------------------------------------------
@bp.post("/api/code/run")
@allow(STUDENT)
def run() -> Response:
    student = need_student()
    body = json_body()
    source = body.get("source")
    if not isinstance(source, str) or not source.strip():
        raise LabkitError(_("There is no program to run."), code="bad_input",
                          fix=_("Write a program or open an example first."))
    name = body.get("name") if isinstance(body.get("name"), str) else ""
    blocks = body.get("blocks") is True
    holder = (runner().program_holder(student.id)
              or Holder(f"program:{student.id}", "program", student.name))
    bus = kit_runtime().bus

    def announce(event: dict[str, Any]) -> None:
        if event["type"] == "start":
            bus.publish("code.program", {"state": "started", "blocks": blocks,
                                         "student_id": student.id})
        elif event["type"] == "exit":
            bus.publish("code.program", {"state": "ended", "reason": event.get("reason"),
                                         "blocks": blocks, "student_id": student.id})

    try:
        program_run = kit_runtime().sandbox.start(source, holder, on_event=announce,
                                                  owner=student.id)
    except SandboxBusy as exc:
        entry = runs().get(exc.run.id)
        mine = entry is not None and entry[1] == student.id
        raise LabkitError(_("Your program is still running.") if mine else
                          _("Another program is running on this kit."), code="busy",
                          fix=_("Stop it first.") if mine else
                          _("Wait until it has finished.")) from None
    except SandboxError as exc:
        raise LabkitError(_("The program cannot be started: %(why)s", why=str(exc)),
                          code="bad_input", fix=_("Make the program shorter.")) from None
    runs().add(program_run, student.id)
    return jsonify({"run_id": program_run.id, "name": name[:60]})


@bp.post("/api/code/runs/<int:run_id>/stop")
@allow(STUDENT)
def stop(run_id: int) -> Response:
    program_run = _own_run(run_id)
    program_run.stop()
    return jsonify({"run_id": run_id, "stopping": program_run.running})


def _sse(event: dict[str, Any]) -> bytes:
    payload = json.dumps(event, ensure_ascii=False, separators=(",", ":"))
    return f"event: run\ndata: {payload}\n\n".encode("utf-8")


def _stream(program_run: ProgramRun) -> Iterator[bytes]:
    yield b"retry: 2000\n\n"
    seen = 0
    while True:
        batch = program_run.events_after(seen, timeout=HEARTBEAT_SECONDS)
        if not batch:
            yield b": keep-alive\n\n"
            continue
        seen += len(batch)
        yield b"".join(_sse(e) for e in batch)
        if batch[-1]["type"] == "exit":
            return


async def _astream(program_run: ProgramRun, sink: AsyncSink) -> None:
    loop = asyncio.get_running_loop()
    wake = asyncio.Event()

    def watcher() -> None:     # the run's thread: only schedule the wake-up
        if not loop.is_closed():
            try:
                loop.call_soon_threadsafe(wake.set)
            except RuntimeError:
                pass

    program_run.watchers.add(watcher)
    seen = 0
    try:
        await sink.write(b"retry: 2000\n\n")
        while True:
            wake.clear()
            batch = program_run.events_after(seen)
            if batch:
                seen += len(batch)
                await sink.write(b"".join(_sse(e) for e in batch))
                if batch[-1]["type"] == "exit":
                    return
                continue
            if not await wait_event(wake, HEARTBEAT_SECONDS):
                await sink.write(b": keep-alive\n\n")
    except StreamClosed:
        pass
    finally:
        program_run.watchers.discard(watcher)


@bp.get("/api/code/runs/<int:run_id>/events")
@allow(STUDENT)
def events(run_id: int) -> Response:
    program_run = _own_run(run_id)
    return stream_response(lambda sink: _astream(program_run, sink),
                           lambda: _stream(program_run), "text/event-stream")


# ---- examples and saved programs ------------------------------------------------------------
@bp.get("/api/code/examples")
@allow(STUDENT)
def example_list() -> Response:
    return jsonify({"examples": [{"id": e.id, "title": str(e.title), "kind": e.kind}
                                 for e in examples_mod.EXAMPLES]})


@bp.get("/api/code/examples/<example_id>")
@allow(STUDENT)
def example_open(example_id: str) -> Response:
    found = examples_mod.example(example_id)
    if found is None:
        raise LabkitError(_("There is no such example."), code="not_found",
                          fix=_("Pick one from the examples menu."))
    if found.kind == "blocks":
        return jsonify({"id": found.id, "title": str(found.title), "kind": "blocks",
                        "blocks": found.blocks})
    return jsonify({"id": found.id, "title": str(found.title), "kind": "python",
                    "source": found.source})


@bp.get("/api/code/programs")
@allow(STUDENT)
def program_list() -> Response:
    student = need_student()
    every = auth.sees_all_work_of(student.id)
    mine = set() if every else auth.granted("program")
    return jsonify({"programs": [p.summary() for p in programs().list(student.id)
                                 if every or p.id in mine]})


@bp.post("/api/code/programs")
@allow(STUDENT)
def program_save() -> Response:
    student = need_student()
    body = json_body()
    program_id = body.get("id") if isinstance(body.get("id"), str) else None
    if program_id is not None and not auth.may_open("program", program_id, student.id):
        program_id = None       # not opened in this session: saved as a new program
    saved = programs().save(student.id, str(body.get("name", "")), body.get("source"),
                            program_id, blocks=body.get("blocks"))
    auth.grant("program", saved.id)
    return jsonify({"program": saved.to_json()})


@bp.get("/api/code/students/<int:student_id>/programs")
@allow(TEACHER)
def student_programs(student_id: int) -> Response:
    """The teacher reads a student's programs (their work is the student's and the teacher's)."""
    if store().roster.student_by_id(student_id) is None:
        raise LabkitError(_("There is no such student."), code="not_found",
                          fix=_("Pick a student from the roster."))
    return jsonify({"programs": [p.to_json() for p in programs().list(student_id)]})


@bp.get("/api/code/programs/<program_id>")
@allow(STUDENT)
def program_open(program_id: str) -> Response:
    student = need_student()
    if not auth.may_open("program", program_id, student.id):
        raise LabkitError(_("There is no such program."), code="not_found",
                          fix=_("Open one from the list of your programs."))
    found = programs().get(student.id, program_id)
    return jsonify({"program": found.to_json()})
