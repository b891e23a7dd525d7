"""Labs on the page: the band/lab picker, picking your name, the lab page and its API.

Students pick their class and their name from the roster the teacher made (and, if the
teacher turned it on, prove it with a picture password or the class code: see
`web/student_signin.py`); the session lives server-side (`web/auth.py`). The lab page shows the lesson
(steps, wiring diagram), the live camera and the virtual bench; pressing Start runs the lab in
the kit's runner, and each step's check turns green live from `lab.*` events on `/events`.
The lab ends with the reflection question and the self-assessment, saved to the portfolio.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from flask import (Blueprint, Response, current_app, flash, jsonify, redirect, render_template,
                   request, url_for)
from flask_babel import get_locale
from flask_babel import gettext as _
from werkzeug.wrappers import Response as WerkzeugResponse

from labkit import curriculum as curriculum_mod
from labkit import bands
from labkit.bands import BANDS
from labkit.curriculum import Curriculum, Lesson
from labkit.drivers.pins import PinsBusy
from labkit.errors import LabkitError
from labkit.projects.runner import LabRunner, StepBinding
from labkit.store import N_, Problem, Store, Student
from labkit.web import auth
from labkit.web.access import ANONYMOUS, STUDENT, TEACHER, allow
from labkit.web.errors import STATUS_FOR_CODE, json_error, wants_json
from labkit.web.common import kit_runtime as runtime

log = logging.getLogger(__name__)
bp = Blueprint("labs", __name__)

# BCM GPIO → physical header pin, so the diagram says where to plug the wire
PHYSICAL_PIN = {2: 3, 3: 5, 4: 7, 17: 11, 27: 13, 22: 15, 10: 19, 9: 21, 11: 23, 5: 29, 6: 31,
                13: 33, 19: 35, 26: 37, 14: 8, 15: 10, 18: 12, 23: 16, 24: 18, 25: 22, 8: 24,
                7: 26, 12: 32, 16: 36, 20: 38, 21: 40}
GROUND_PINS = (6, 9, 14, 20, 25, 30, 34, 39)


# ---- shared helpers (portfolio and teacher pages use them too) ---------------------------

def store() -> Store:
    return Store.for_runtime(runtime())


def runner() -> LabRunner:
    return LabRunner.for_runtime(runtime(), store())


def curriculum() -> Curriculum:
    return curriculum_mod.cached(current_app.config.get("LABKIT_CURRICULUM"),
                                 data_dir=runtime().settings.data_dir)


def lang() -> str:
    return "en" if str(get_locale() or "").startswith("en") else "zh_CN"


def tr(value: Any) -> str:
    """A bilingual lesson field in the page's language."""
    return curriculum_mod.text(value, lang())


def translate(exc: LabkitError) -> tuple[str, str]:
    """The message and fix of an error in the page's language."""
    if isinstance(exc, Problem):
        message = _(exc.msgid, **exc.params) if exc.params else _(exc.msgid)
        fix = ""
        if exc.fix_msgid:
            fix = _(exc.fix_msgid, **exc.params) if exc.params else _(exc.fix_msgid)
        return message, fix
    return exc.message, exc.fix


def current_student() -> Student | None:
    """The student picked in this browser, if they are still on the roster."""
    return auth.session_student()


def need_student() -> Student:
    student = current_student()
    if student is None:
        raise Problem(N_("Pick your name from the class list first."),
                      fix=N_("Your teacher has put your class on the kit."), code="need_student")
    return student


def is_teacher() -> bool:
    return auth.is_teacher()


def jsonjson_body() -> dict[str, Any]:
    from labkit.web.common import json_body

    return json_body(optional=True)


def holder_message(holder: dict[str, Any] | None) -> str:
    """Who holds the kit's outputs, in the page's language ("李明's lab is running, 3 of 3
    steps done")."""
    if not holder:
        return ""
    kind, name = holder.get("kind"), holder.get("name") or ""
    if kind == "lab":
        done, total = holder.get("done", 0), holder.get("total", 0)
        if name:
            return _("%(name)s's lab is running, %(done)s of %(total)s steps done.",
                     name=name, done=done, total=total)
        return _("A lab is running, %(done)s of %(total)s steps done.", done=done, total=total)
    if kind == "demo":
        return _("A lab demo is running.")
    if kind == "learn":
        return _("The Teach the computer page is using the kit's outputs.")
    if kind == "audio":
        return _("The Sound page is using the kit's outputs.")
    if kind == "console":
        return _("The teacher's console is using the kit.")
    if kind == "program":
        return _("%(name)s's program is running.", name=name) if name else \
            _("A student program is running.")
    return _("The kit is in use.")


def register_problem_handler(app: Any) -> None:
    """Problems (store, runner, roster) are shown translated, as page or JSON."""

    @app.errorhandler(PinsBusy)
    def _pins_busy(exc: PinsBusy) -> Any:
        message = holder_message(exc.holder.describe())
        fix = _("Wait until it has finished. Only the one running it, or a teacher, should "
                "take it over.")
        if wants_json():
            return json_error("pins_busy", message, 409, fix=fix, holder=exc.holder.describe())
        return render_template("error.html", message=message, fix=fix), 409

    @app.errorhandler(Problem)
    def _problem(exc: Problem) -> Any:
        message, fix = translate(exc)
        status = STATUS_FOR_CODE.get(exc.code, 400)
        if exc.code == "too_many":
            status = 429
        if wants_json():
            return json_error(exc.code, message, status, fix=fix)
        return render_template("error.html", message=message, fix=fix), status


@bp.record_once
def _setup(state: Any) -> None:
    register_problem_handler(state.app)
    state.app.jinja_env.globals.update(lab_tr=tr)
    # Open the store and the runner now, not on the first request: the runner marks runs
    # cut off by a crash or power cut as interrupted before anyone looks at a portfolio.
    rt = state.app.extensions["labkit"]
    LabRunner.for_runtime(rt, Store.for_runtime(rt))
    _start_retention(rt)


def _start_retention(rt: Any) -> None:
    """Erase expired samples now and once a day (a kit may run for weeks)."""
    from labkit.privacy import expire_samples, samples_expiry

    def run_once() -> None:
        try:
            store = Store.for_runtime(rt)
            if samples_expiry(store) is None:
                return   # nothing to expire: no need to load /learn (kept off the start path)
            from labkit.learn.dataset import ProjectStore

            service = rt.services.get("learn")
            projects = service.projects if service is not None else ProjectStore(
                rt.settings.data_dir)
            expire_samples(store, projects)
        except Exception:  # retention must never stop the kit; it retries tomorrow
            log.exception("retention pass failed")

    def daily() -> None:
        while not stop.wait(24 * 3600):
            run_once()

    run_once()
    stop = threading.Event()
    threading.Thread(target=daily, name="labkit-retention", daemon=True).start()
    rt.services.setdefault("retention_stop", stop)


@bp.app_context_processor
def _labs_context() -> dict[str, Any]:
    def bands() -> list[dict[str, Any]]:
        cur = curriculum()
        student = None if is_teacher() else current_student()
        if student is None:
            return [{"id": band, "lessons": cur.lessons_in(band)} for band in BANDS]
        from labkit.web.lab_access import open_lab_ids

        shown = open_lab_ids(student, cur.lessons)
        return [{"id": band, "lessons": [x for x in cur.lessons_in(band) if x.id in shown]}
                for band in BANDS]
    def problems() -> list[Any]:
        curriculum()   # rediscovers the labs when a lab folder changed
        from labkit.projects.registry import registry

        return list(registry(runtime().settings.data_dir).problems)
    return {"lab_bands": bands, "lab_problems": problems, "lab_student": current_student,
            "lab_is_teacher": is_teacher,
            "lab_lang": lang, "lab_band_name": band_name, "lab_band_school": band_school}


def band_name(band: str) -> str:
    known = bands.BY_ID.get(band)
    return str(known.name) if known else band


def band_school(band: str) -> str:
    known = bands.BY_ID.get(band)
    return str(known.school) if known else ""


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


# ---- picking your name ---------------------------------------------------------------------
def safe_next(target: str | None, *, inside: str = "/", fallback: str = "home.index") -> str:
    """A local path under `inside` to go back to, so a link cannot send a child elsewhere."""
    if not target or not target.startswith(inside) or target.startswith("//"):
        return url_for(fallback)
    return target


@bp.get("/student")
@allow(ANONYMOUS)
def pick_class() -> str:
    classes = store().roster.classes()
    return render_template("labs/pick_class.html", classes=classes,
                           next=safe_next(request.args.get("next")))


@bp.get("/student/classes/<int:class_id>")
@allow(ANONYMOUS)
def pick_name(class_id: int) -> str:
    school_class = store().roster.get_class(class_id)
    students = store().roster.students(class_id)
    return render_template("labs/pick_name.html", school_class=school_class, students=students,
                           next=safe_next(request.args.get("next")))


@bp.post("/student/classes/<int:class_id>/students/<int:student_id>")
@allow(ANONYMOUS)
def pick_student(class_id: int, student_id: int) -> Any:
    from labkit.web.student_signin import begin

    student = store().roster.student(class_id, student_id)  # other class → 404, nothing set
    return begin(student, safe_next(request.form.get("next")))


@bp.post("/student/leave")
@allow(ANONYMOUS)
def leave() -> WerkzeugResponse:
    auth.end_student_session()
    return redirect(url_for("home.index"))


# ---- the lab page --------------------------------------------------------------------------
def wiring_rows(lesson: Lesson) -> list[dict[str, Any]]:
    """The lesson's connections with the pins this kit really uses (from its wiring.yaml)."""
    kit_wiring = runtime().wiring
    rows = []
    ground = iter(GROUND_PINS)
    for conn in lesson.data["wiring"]:
        device = conn["device"]
        spec = kit_wiring.devices.get(device)
        row: dict[str, Any] = {"device": device, "lead": conn.get("lead", ""),
                               "type": spec.type if spec else "", "spi": conn["pin"] == "SPI0"}
        if row["spi"]:
            row["channel"] = spec.options.get("channel") if spec else conn.get("channel")
        else:
            lead = conn.get("lead") or (next(iter(spec.pins)) if spec else "pin")
            bcm = spec.pins.get(lead, conn["pin"]) if spec else conn["pin"]
            row.update(bcm=bcm, physical=PHYSICAL_PIN.get(bcm), lesson_pin=conn["pin"],
                       differs=bcm != conn["pin"], ground=next(ground, 6))
        rows.append(row)
    return rows


def lab_spec(lesson: Lesson) -> Any:
    """The lab's declaration (what it uses, its signals) — None for a hand-written Project."""
    from labkit.projects.registry import registry

    return registry(runtime().settings.data_dir).specs.get(lesson.id)


def _is_mine(active: Any, student: Student | None, lesson: Lesson) -> bool:
    if active is None or active.lesson_id != lesson.id:
        return False
    if active.demo is not None:
        return is_teacher() and active.student_id is None
    return student is not None and active.student_id == student.id


@bp.get("/labs/<lesson_id>")
@allow(ANONYMOUS)
def lab_page(lesson_id: str) -> Any:
    lesson = curriculum().lesson(lesson_id)
    student = current_student()
    if student is None and not is_teacher():   # a teacher may preview a lab (Demo)
        return redirect(url_for("labs.pick_class", next=request.path))
    if not is_teacher():
        from labkit.web.lab_access import check_open

        check_open(student, lesson.id, curriculum().lessons)
    active = runner().active
    mine = active.snapshot() if _is_mine(active, student, lesson) else None
    holder = runtime().pins.describe()
    response = Response(render_template(
        "labs/lab.html", lesson=lesson, student=student, wiring=wiring_rows(lesson),
        active=mine, other_active=holder is not None and mine is None,
        holder_text=holder_message(holder) if mine is None else "", spec=lab_spec(lesson)))
    return _no_store(response)


# ---- the lab API ---------------------------------------------------------------------------
def _own_run(run_id: int) -> tuple[Student, Any]:
    """The session student's run `run_id` (another student's run is refused, unchanged)."""
    student = need_student()
    run = store().runs.get(run_id)
    if not auth.may_open("run", run.id, run.student_id):
        raise Problem(N_("This lab run belongs to someone else."),
                      fix=N_("Open the lab again to start your own run."), code="forbidden")
    return student, run


@bp.post("/api/labs/<lesson_id>/start")
@allow(STUDENT)
def api_start(lesson_id: str) -> Response:
    student = need_student()
    lesson = curriculum().lesson(lesson_id)
    if not is_teacher():
        from labkit.web.lab_access import check_open

        check_open(student, lesson.id, curriculum().lessons)
    body = jsonjson_body()
    try:
        lab = runner().start(lesson.project,
                             steps=[StepBinding(s, c) for s, c in lesson.bindings()],
                             student_id=student.id, lesson_id=lesson.id,
                             titles=(lesson.t("title", "zh_CN"), lesson.t("title", "en")),
                             takeover=body.get("takeover") is True, holder_name=student.name,
                             # granted before the page's event stream hears "running", or the
                             # page's first request for the run could be refused as not its own
                             on_recorded=lambda run_id: auth.grant("run", run_id))
    except Problem as exc:
        return _busy_or_raise(exc)
    return _no_store(jsonify(lab.snapshot()))


def _busy_or_raise(exc: Problem) -> Response:
    """A busy kit is answered with who holds it; taking over needs {"takeover": true},
    which the page sends only after the user confirmed."""
    holder = runtime().pins.describe()
    if exc.code != "busy" or holder is None:
        raise exc
    return json_error("busy", holder_message(holder), 409, holder=holder,
                      fix=_("Ask them first. Taking over stops what they are doing."))


@bp.post("/api/labs/<lesson_id>/demo")
@allow(TEACHER)
def api_demo(lesson_id: str) -> Response:
    """A teacher previews the lab: its demo scenario plays in real time (nothing is graded
    into anyone's portfolio), or with {"fast": true} on a simulated clock: the real detectors
    see every frame but nobody waits between them, so every step turns green in seconds."""
    if not is_teacher():
        raise Problem(N_("Teachers only: sign in with the PIN first."),
                      fix=N_("Open the Teacher page."), code="need_teacher")
    if runtime().hardware != "sim":
        raise Problem(N_("A demo plays simulated inputs, so it runs only in simulation."),
                      fix=N_("Start the kit with LABKIT_HARDWARE=sim to preview labs."),
                      code="real_hardware")
    lesson = curriculum().lesson(lesson_id)
    body = jsonjson_body()
    fast = body.get("fast", False)
    if not isinstance(fast, bool):
        raise Problem(N_("\"fast\" must be true or false."),
                      fix=N_("Send {\"fast\": true} for the quick demo."), code="bad_request")
    try:
        lab = runner().start(lesson.project,
                             steps=[StepBinding(s, c) for s, c in lesson.bindings()],
                             lesson_id=lesson.id, takeover=body.get("takeover") is True,
                             demo=True, fast=fast)
    except Problem as exc:
        return _busy_or_raise(exc)
    return _no_store(jsonify(lab.snapshot()))


@bp.post("/api/labs/<lesson_id>/demo/stop")
@allow(TEACHER)
def api_demo_stop(lesson_id: str) -> Response:
    if not is_teacher():
        raise Problem(N_("Teachers only: sign in with the PIN first."),
                      fix=N_("Open the Teacher page."), code="need_teacher")
    lab = runner().active
    stopped = lab is not None and lab.demo is not None and lab.lesson_id == lesson_id
    if stopped:
        runner().stop("stopped", run_id=lab.run_id)
    return jsonify({"stopped": stopped})


@bp.get("/api/labs/active")
@allow(ANONYMOUS)
def api_active() -> Response:
    lab = runner().active
    holder = runtime().pins.describe()
    who = {"holder": holder, "holder_text": holder_message(holder)}
    if lab is None:
        return _no_store(jsonify({"active": None, **who}))
    mine = current_student()
    snap = lab.snapshot()
    if mine is None or not auth.may_open("run", lab.run_id, lab.student_id):
        snap = {k: snap[k] for k in ("project", "lesson", "status")}  # not someone else's run
    return _no_store(jsonify({"active": snap, **who}))


@bp.get("/api/labs/runs/<int:run_id>")
@allow(STUDENT)
def api_run(run_id: int) -> Response:
    _student, run = _own_run(run_id)
    lab = runner().active
    live = lab.snapshot() if lab is not None and lab.run_id == run_id else None
    return _no_store(jsonify({"run_id": run.id, "lesson": run.lesson_id, "status": run.status,
                              "steps_passed": [s.step_id for s in run.steps],
                              "steps_total": run.steps_total, "live": live}))


@bp.post("/api/labs/runs/<int:run_id>/stop")
@allow(STUDENT)
def api_stop(run_id: int) -> Response:
    _own_run(run_id)
    lab = runner().stop("stopped", run_id=run_id)
    from labkit.web.voice_answer import forget

    forget(run_id)   # an unsaved voice answer goes with the run
    return jsonify({"run_id": run_id, "stopped": lab is not None})


@bp.post("/api/labs/runs/<int:run_id>/finish")
@allow(STUDENT)
def api_finish(run_id: int) -> Response:
    """Save the reflection and self-assessment, end the run, point to the portfolio."""
    student, run = _own_run(run_id)
    lesson = curriculum().lesson(run.lesson_id)
    body = jsonjson_body()
    levels = body.get("self") or {}
    if not isinstance(levels, dict):
        raise Problem(N_("The self-assessment must be one level per question."), code="bad_input")
    scores: dict[str, tuple[int, int]] = {}
    for criterion in lesson.criteria:
        level = levels.get(criterion["id"])
        try:
            level = int(level)
        except (TypeError, ValueError):
            raise Problem(N_("Answer every question of the self-assessment (%(criterion)s)."),
                          code="bad_input", criterion=tr(criterion["name"])) from None
        if not 1 <= level <= len(criterion["levels"]):
            raise Problem(N_("Answer every question of the self-assessment (%(criterion)s)."),
                          code="bad_input", criterion=tr(criterion["name"]))
        scores[criterion["id"]] = (level, len(criterion["levels"]))
    unknown = set(levels) - {c["id"] for c in lesson.criteria}
    if unknown:
        raise Problem(N_("The self-assessment has an unknown question (%(criterion)s)."),
                      code="bad_input", criterion=sorted(unknown)[0])
    from labkit.web.primary import reflection_from
    from labkit.web.voice_answer import forget, take_for_saving

    young = lesson.band == "experience"
    voice = body.get("voice", False)
    if not isinstance(voice, bool) or (voice and not young):
        raise Problem(N_("Answer this lab's question in words."), code="bad_input")
    answer, drawing = reflection_from(body, young=young, voice=voice)
    if run.status == "finished":
        raise Problem(N_("This lab run is already finished."),
                      fix=N_("Start the lab again to do another run."), code="conflict")
    spoken = take_for_saving(run_id) if voice else None
    if drawing is not None:   # kept only now, when the child pressed save
        store().artefacts.save(run_id, "sample", _("My drawing"), drawing, ".png")
    if spoken is not None:    # sealed like every kept sound (store/files.py)
        store().artefacts.save(run_id, "sample", _("My voice answer"), spoken, ".wav")
    forget(run_id)
    store().runs.finish(run_id, question=tr(lesson.data["reflection"]["question"]),
                        answer=answer, self_scores=scores)
    runner().stop("finished", run_id=run_id)
    url = url_for("portfolio.student_view", class_id=student.class_id, student_id=student.id,
                  _anchor=f"run-{run_id}")
    return jsonify({"run_id": run_id, "status": "finished", "portfolio": url})


@bp.get("/api/labs/runs/<int:run_id>/settings")
@allow(STUDENT)
def api_settings(run_id: int) -> Response:
    """The running lab's slider values, for the page's sliders part."""
    _own_run(run_id)
    return _no_store(jsonify({"settings": runner().settings(run_id)}))


@bp.post("/api/labs/runs/<int:run_id>/settings")
@allow(STUDENT)
def api_set_setting(run_id: int) -> Response:
    """Move one slider: {"detector", "setting", "value"} → every slider's value. A slider
    the lab does not show, or a value outside its range, is a 400 and changes nothing."""
    _own_run(run_id)
    body = jsonjson_body()
    detector, setting = body.get("detector"), body.get("setting")
    if not isinstance(detector, str) or not isinstance(setting, str):
        raise Problem(N_("Say which slider moved: detector and setting."), code="bad_input")
    try:
        values = runner().apply_setting(detector, setting, body.get("value"), run_id=run_id)
    except LabkitError as exc:
        if isinstance(exc, Problem):
            raise
        message, fix = translate(exc)
        return json_error(exc.code, message, 400, fix=fix)
    return jsonify({"settings": values, "value": values[detector][setting]})


def _refused(exc: LabkitError) -> Response:
    """A lab's own refusal of a change (a LabkitError) as a 400 in the reader's language."""
    if isinstance(exc, Problem):
        raise exc
    message, fix = translate(exc)
    return json_error(exc.code, message, 400, fix=fix)


@bp.get("/api/labs/runs/<int:run_id>/parts/<part>")
@allow(STUDENT)
def api_part(run_id: int, part: str) -> Response:
    """What a page part of the running lab shows now: the neighbours plot's points, k and
    regions, or the trials' figures."""
    _own_run(run_id)
    try:
        state = runner().part_state(part, run_id=run_id, name=request.args.get("name"))
    except LabkitError as exc:
        return _refused(exc)
    return _no_store(jsonify(state))


@bp.post("/api/labs/runs/<int:run_id>/parts/<part>")
@allow(STUDENT)
def api_part_input(run_id: int, part: str) -> Response:
    """A student changes a part of their running lab: `{"kind": "command"|"other"}` starts a
    trial; `{"action": "add", "label"}` labels the reading now, `{"action": "k", "k"}`,
    `{"action": "remove", "index"}`, `{"action": "clear"}` / `"restore"` change the points.
    A bad change is a 400 that changes nothing."""
    _own_run(run_id)
    body = jsonjson_body()
    try:
        state = runner().part_input(part, body, run_id=run_id)
    except LabkitError as exc:
        return _refused(exc)
    return jsonify(state)


@bp.post("/api/labs/runs/<int:run_id>/snapshot")
@allow(STUDENT)
def api_snapshot(run_id: int) -> Response:
    """Keep the current camera picture in the portfolio — only when the student asks, and
    after the lab's `pictures:` rule covered every face (labkit/projects/pictures.py)."""
    _student, run = _own_run(run_id)
    if run.status != "running":
        raise Problem(N_("This lab run has ended."), fix=N_("Start the lab again."), code="conflict")
    frame = runtime().camera.read()
    if frame is None:
        raise Problem(N_("The camera has no picture yet."), fix=N_("Wait a moment and try again."),
                      code="busy")
    n = len([a for a in run.artefacts if a.kind == "sample"]) + 1
    try:
        art, covered = runner().keep_picture(_("Photo %(n)s", n=n), run_id=run_id,
                                             image=frame.image)
    except LabkitError as exc:
        if isinstance(exc, Problem):
            raise
        message, fix = translate(exc)
        return json_error(exc.code, message, 409, fix=fix)
    if art is None:
        raise Problem(N_("This lab run has ended."), fix=N_("Start the lab again."), code="conflict")
    return jsonify({"id": art.id, "name": art.name, "bytes": art.bytes,
                    "covered": covered.as_log() if covered else None})


def refuse_access(roles: frozenset[str]) -> Any:
    """The answer to a caller who holds none of a route's roles (see web/access.py)."""
    from labkit.web.access import KIT_LOCAL, PAIRED_KIT

    if TEACHER in roles and STUDENT not in roles:
        if wants_json() or request.method != "GET":
            raise Problem(N_("Teachers only: sign in with the PIN first."),
                          fix=N_("Open the Teacher page."), code="need_teacher")
        flash(_("Sign in with the teacher PIN first."), "error")
        return redirect(url_for("teacher.index", next=request.path))
    if STUDENT in roles:
        if wants_json() or request.method != "GET":
            raise Problem(N_("Pick your name first."), fix=N_("Open the Student page."),
                          code="need_student")
        return redirect(url_for("labs.pick_class", next=request.path))
    if KIT_LOCAL in roles:
        raise Problem(N_("This can only be done on the kit itself."), code="forbidden")
    if PAIRED_KIT in roles:
        from labkit.web.fleet import paired_refusal
        raise paired_refusal()
    raise Problem(N_("This action is not open to anyone."), code="forbidden")
