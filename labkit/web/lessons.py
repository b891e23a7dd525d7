"""Class sessions on the teacher console: a class's grade, starting a lesson with the labs that
are open, ending it, the labs switched on/off for the class outside lessons, and the live
progress wall of a lesson.

The wall is a snapshot of `labkit.store.progress.progress_wall` sent over SSE whenever a lab
run changes (the runner's `lab.state`, `lab.step` and `lab.error` events) and every few seconds
(so "stuck for N minutes" appears without any event). Under the kit's ASGI server the stream is
an async body (web/handoff.py): an open wall holds no worker thread; snapshots are computed on
a worker thread and sent only when they changed.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
import threading
import time
from typing import Any, Callable, Iterator

from flask import (Blueprint, Response, flash, jsonify, redirect, render_template, request,
                   url_for)
from flask_babel import gettext as _
from werkzeug.wrappers import Response as WerkzeugResponse

from labkit import steady
from labkit.bands import BANDS
from labkit.events import Subscription
from labkit.store import N_, Problem
from labkit.store.classroom import CLASS_HOURS, GRADES, ClassSession
from labkit.store.progress import STUCK_AFTER_S, progress_wall, wall_counts
from labkit.web.access import TEACHER, allow
from labkit.web.common import kit_runtime
from labkit.web.events import sse
from labkit.web.handoff import AsyncSink, StreamClosed, stream_response, wait_event
from labkit.web.labs import curriculum, lang, store, tr, translate

bp = Blueprint("lessons", __name__)

TICK_SECONDS = 5.0          # the wall is recomputed at least this often (stuck timers)
SETTLE_SECONDS = 0.05       # events arriving together make one snapshot
ERRORS_KEPT = 500           # runs whose error count is remembered
ERRORS_RECENT_S = 120.0     # a run with no error for this long is no longer stuck on errors


class LabErrors:
    """How often each run's lab code failed lately (`lab.error` events), for the wall's "stuck".

    Errors are not stored in the database (the runner shows them live); one subscription per
    process counts them from the bus as they are published. A run whose last error is older
    than `recent_s` counts as fine again (the runner publishes an error once, not each time
    the same error repeats, and nothing when the code recovers).
    """

    def __init__(self, bus: Any, *, recent_s: float = ERRORS_RECENT_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._counts: dict[int, tuple[int, float]] = {}
        self._lock = threading.Lock()
        self.recent_s = recent_s
        self.clock = clock
        self._sub: Subscription = bus.subscribe("lab.error", maxsize=64)
        self._sub.on_put = self._drain

    def _drain(self) -> None:
        while (event := self._sub.get_nowait()) is not None:
            run_id = (event.data or {}).get("run_id")
            if isinstance(run_id, int):
                with self._lock:
                    count, _at = self._counts.pop(run_id, (0, 0.0))
                    self._counts[run_id] = (count + 1, self.clock())
                    while len(self._counts) > ERRORS_KEPT:
                        self._counts.pop(next(iter(self._counts)))

    def counts(self) -> dict[int, int]:
        """{run id: errors} for runs that failed within the last `recent_s` seconds."""
        since = self.clock() - self.recent_s
        with self._lock:
            return {run: n for run, (n, at) in self._counts.items() if at >= since}

    def close(self) -> None:
        self._sub.on_put = None
        self._sub.close()


def lab_errors() -> LabErrors:
    runtime = kit_runtime()
    return runtime.service("lab_errors", lambda: LabErrors(runtime.bus))


@bp.record_once
def _setup(state: Any) -> None:
    rt = state.app.extensions["labkit"]
    rt.service("lab_errors", lambda: LabErrors(rt.bus))   # count errors from the start


def _lessons() -> list[Any]:
    return [lesson for band in BANDS for lesson in curriculum().lessons_in(band)]


def _private(body: Any, status: int = 200) -> Response:
    response = body if isinstance(body, Response) else Response(body, status=status)
    response.headers["Cache-Control"] = "no-store"
    return response


def _flash_problem(exc: Problem) -> None:
    message, fix = translate(exc)
    flash(f"{message} {fix}".strip(), "error")


# ---- the class's lesson page ---------------------------------------------------------------
@bp.get("/teacher/classes/<int:class_id>/lesson")
@allow(TEACHER)
def lesson_page(class_id: int) -> Response:
    school_class = store().roster.get_class(class_id)
    classroom = store().classroom
    return _private(render_template(
        "console/lesson.html", school_class=school_class, grade=classroom.grade(class_id),
        grades=GRADES, hours=CLASS_HOURS, running=classroom.running(class_id),
        labs_off=classroom.labs_off(class_id), lessons=_lessons(), tr=tr,
        history=classroom.sessions(class_id)[:20], titles=lab_titles(), when=when))


def lab_titles() -> dict[str, str]:
    """{lab id: title in the page's language} for every lab on the kit."""
    return {lesson.id: tr(lesson.data.get("title")) for lesson in curriculum().lessons.values()}


def when(ts: float | None) -> str:
    return "" if ts is None else datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M")


def _back(class_id: int) -> WerkzeugResponse:
    return redirect(url_for("lessons.lesson_page", class_id=class_id))


@bp.post("/teacher/classes/<int:class_id>/grade")
@allow(TEACHER)
def set_grade(class_id: int) -> WerkzeugResponse:
    store().roster.get_class(class_id)
    try:
        grade = store().classroom.set_grade(class_id, request.form.get("grade", ""))
    except Problem as exc:
        if exc.code == "not_found":
            raise
        _flash_problem(exc)
        return _back(class_id)
    flash(_("The class is in grade %(grade)s.", grade=grade), "ok")
    return _back(class_id)


def _known_labs(ids: list[str]) -> list[str]:
    known = curriculum().lessons
    unknown = [x for x in ids if x not in known]
    if unknown:
        raise Problem(N_("There is no lab \"%(lab)s\" on this kit."),
                      fix=N_("Pick a lab from the list."), code="bad_input", lab=unknown[0][:60])
    return ids


@bp.post("/teacher/classes/<int:class_id>/lesson/start")
@allow(TEACHER)
def start_lesson(class_id: int) -> WerkzeugResponse:
    store().roster.get_class(class_id)
    try:
        if request.form.get("grade"):
            store().classroom.set_grade(class_id, request.form["grade"])
        labs = _known_labs(request.form.getlist("lab"))
        try:
            hours = float(request.form.get("hours", "1"))
        except ValueError:
            hours = -1.0
        known = curriculum().lessons
        session = store().classroom.start(
            class_id, labs, class_hours=hours,
            cross_disciplinary=any(known[x].cross_disciplinary for x in labs))
    except Problem as exc:
        if exc.code == "not_found":
            raise
        _flash_problem(exc)
        return _back(class_id)
    flash(_("The lesson has started: the class sees only the %(count)s lab(s) you opened.",
            count=len(session.lab_ids)), "ok")
    return redirect(url_for("lessons.wall_page", session_id=session.id))


def _session_of(class_id: int, session_id: int) -> ClassSession:
    session = store().classroom.get(session_id)
    if session.class_id != class_id:   # another class's lesson: as if it were not there
        raise Problem(N_("There is no lesson number %(session_id)s."), code="not_found",
                      session_id=session_id)
    return session


@bp.post("/teacher/classes/<int:class_id>/lesson/<int:session_id>/end")
@allow(TEACHER)
def end_lesson(class_id: int, session_id: int) -> WerkzeugResponse:
    _session_of(class_id, session_id)
    store().classroom.end(session_id)
    flash(_("The lesson has ended."), "ok")
    return _back(class_id)


@bp.post("/teacher/classes/<int:class_id>/labs")
@allow(TEACHER)
def set_labs(class_id: int) -> WerkzeugResponse:
    """The form lists every lab with a checkbox `on`; the unchecked ones are switched off."""
    store().roster.get_class(class_id)
    try:
        on = set(_known_labs(request.form.getlist("on")))
    except Problem as exc:
        _flash_problem(exc)
        return _back(class_id)
    off = {lesson.id for lesson in _lessons()} - on
    store().classroom.set_labs_off(class_id, off)
    flash(_("Saved: %(on)s lab(s) on, %(off)s off for this class.", on=len(on), off=len(off)),
          "ok")
    return _back(class_id)


# ---- the progress wall -------------------------------------------------------------------
def _snapshot_fn(session_id: int, stuck_after: float) -> Callable[[], dict[str, Any]]:
    """A function computing the wall now, with everything from the request it needs (the
    language, the lab titles) bound in, so it also runs outside the request."""
    the_store = store()
    errors = lab_errors()
    language = lang()
    titles = {lesson.id: lesson.t("title", language) for lesson in curriculum().lessons.values()}

    def snapshot() -> dict[str, Any]:
        session = the_store.classroom.get(session_id)
        the_store.classroom.end_overdue()
        wall = progress_wall(the_store.db, session, steady.now(), errors=errors.counts(),
                             stuck_after=stuck_after)
        students = []
        for entry in wall:
            item = entry.as_json()
            item["lab_title"] = titles.get(entry.lab_id, entry.lab_id)
            item["finished_titles"] = [titles.get(x, x) for x in entry.finished]
            item["idle_min"] = int(entry.idle_s // 60)
            students.append(item)
        return {"session": {"id": session.id, "running": session.running,
                            "class_name": session.class_name, "lab_ids": list(session.lab_ids),
                            "started_at": session.started_at},
                "counts": wall_counts(wall), "stuck_after_min": round(stuck_after / 60),
                "students": students, "lang": language}
    return snapshot


def _stuck_after() -> float:
    try:
        minutes = int(request.args.get("stuck", ""))
    except ValueError:
        return STUCK_AFTER_S
    return float(min(max(minutes, 1), 60) * 60)


@bp.get("/teacher/lessons/<int:session_id>/wall")
@allow(TEACHER)
def wall_page(session_id: int) -> Response:
    session = store().classroom.get(session_id)
    stuck = _stuck_after()
    return _private(render_template(
        "console/wall.html", session=session, snapshot=_snapshot_fn(session_id, stuck)(),
        stuck_min=round(stuck / 60), titles=lab_titles(), when=when))


@bp.get("/api/teacher/lessons/<int:session_id>/wall")
@allow(TEACHER)
def wall_json(session_id: int) -> Response:
    store().classroom.get(session_id)
    return _private(jsonify(_snapshot_fn(session_id, _stuck_after())()))


def _encode(snapshot: dict[str, Any]) -> bytes:
    return sse("wall", snapshot)


def _wall_stream(sub: Subscription, snapshot: Callable[[], dict[str, Any]]) -> Iterator[bytes]:
    """The blocking body (any WSGI server): a snapshot on each lab event and every tick."""
    try:
        yield b"retry: 2000\n\n"
        last = _encode(snapshot())
        yield last
        while True:
            event = sub.get(timeout=TICK_SECONDS)
            if event is not None:
                while sub.get_nowait() is not None:
                    pass
            data = _encode(snapshot())
            if data != last:
                last = data
                yield data
            elif event is None:
                yield b": keep-alive\n\n"
    finally:
        sub.close()


async def _wall_astream(sub: Subscription, snapshot: Callable[[], dict[str, Any]],
                        sink: AsyncSink) -> None:
    """The async body (the kit's ASGI server): woken by the bus, computed on a thread."""
    loop = asyncio.get_running_loop()
    wake = asyncio.Event()

    def on_put() -> None:   # publisher's thread
        if not loop.is_closed():
            try:
                loop.call_soon_threadsafe(wake.set)
            except RuntimeError:
                pass

    sub.on_put = on_put
    try:
        last = _encode(await asyncio.to_thread(snapshot))
        await sink.write(b"retry: 2000\n\n" + last)
        while True:
            woke = await wait_event(wake, TICK_SECONDS)
            if woke:
                await asyncio.sleep(SETTLE_SECONDS)
            wake.clear()
            while sub.get_nowait() is not None:
                pass
            data = _encode(await asyncio.to_thread(snapshot))
            if data != last:
                last = data
                await sink.write(data)
            elif not woke:
                await sink.write(b": keep-alive\n\n")
    except StreamClosed:
        pass
    finally:
        sub.on_put = None
        sub.close()


@bp.get("/api/teacher/lessons/<int:session_id>/wall/events")
@allow(TEACHER)
def wall_events(session_id: int) -> Response:
    store().classroom.get(session_id)
    snapshot = _snapshot_fn(session_id, _stuck_after())
    sub = kit_runtime().bus.subscribe("lab.state", "lab.step", "lab.error")
    return stream_response(lambda sink: _wall_astream(sub, snapshot, sink),
                           lambda: _wall_stream(sub, snapshot), "text/event-stream",
                           on_abandon=sub.close)
