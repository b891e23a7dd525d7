"""Running labs: one active lab per kit, inside the kit's single runtime process.

The runner is a runtime service (`LabRunner.for_runtime(runtime)`), so the web page and the
terminal (`labkit run`) drive labs the same way and never fight over the camera or the pins.
While a lab runs, a thread:

1. waits for the next camera frame (labs that use the camera) or the next tick,
2. copies the virtual bench's `bench.state` changes into the lab's event log as hardware
   entries, and hands bus events the lab listens to to `on_event()`,
3. calls the lab's `step()`,
4. re-evaluates the checks when the log changed; a step whose check passes turns green once
   and stays green ("latched"), is written to the portfolio in its own transaction, and is
   announced on the bus as `lab.step` (the page turns it green live over SSE).

Labs that use the microphone get every audio block handed to `hear()` before `step()`.

A run can play the lab's demo scenario (`demo=True`, see demo.py). On the real clock (the
page's Demo button) the camera shows the scenario's scenes, its sounds go into the simulated
microphone and its bench inputs are applied on time. On a simulated clock (`LabRunner(...,
clock=SimClock())`: tests and `labkit run LAB --demo`) the runner renders each frame itself,
runs the real detectors on it, and moves the clock on by one frame: a 20 s scenario takes the
few seconds the detectors need, and every timestamp in the log is scenario time.

Bus topics: `lab.state` (started/complete/stopped), `lab.check` (a check's progress changed),
`lab.step` (a step passed), `lab.signal` (a model signal changed, e.g. face visible),
`lab.demo` (the demo scenario finished playing).
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

from labkit import steady
from labkit.drivers.pins import Holder, PinsBusy
from labkit.events import Event
from labkit.projects.base import CheckResult, LabContext, Project
from labkit.projects.clock import RealClock, SimClock
from labkit.projects.eventlog import EventLog, LogEntry
from labkit.projects.registry import Registry, registry as default_registry
from labkit.store.problems import N_, Problem

log = logging.getLogger(__name__)

EVAL_INTERVAL = 0.25       # seconds between check evaluations when nothing changed
MAX_STEP_ERRORS = 25       # consecutive step() failures before the lab is stopped
DEMO_GRACE_S = 2.0         # simulated seconds the checks get after the scenario's end
PROGRAM_END_S = 10.0       # how long a stopping lab waits for its killed programs to end


@dataclass(frozen=True)
class StepBinding:
    """A lesson step and the project check that proves it."""

    step_id: str
    check_id: str


def device_signal(state: dict[str, Any]) -> Any:
    """The one value of a bench device worth logging (LED level, servo angle, pressed …)."""
    t = state.get("type")
    if t == "AngularServo":
        return state.get("angle")
    if t == "Button":
        return state.get("pressed")
    if t == "MotionSensor":
        return state.get("active")
    if t == "DistanceSensor":
        return state.get("distance")
    if t == "MCP3008":
        return state.get("celsius", state.get("value"))
    if t == "TonalBuzzer":
        return state.get("frequency") if state.get("value") else 0
    value = state.get("value")
    return list(value) if isinstance(value, (list, tuple)) else value


@dataclass
class ActiveLab:
    """One running lab and what it has achieved so far."""

    project: Project
    steps: list[StepBinding]
    log: EventLog
    ctx: LabContext
    run_id: int | None = None
    student_id: int | None = None
    lesson_id: str = ""
    started_at: float = field(default_factory=steady.now)
    status: str = "running"
    results: dict[str, CheckResult] = field(default_factory=dict)
    passed: dict[str, float] = field(default_factory=dict)   # step id → when
    errors: int = 0
    last_error: str = ""
    complete: bool = False
    demo: Any = None           # the Scenario being played, if any
    fast: bool = False         # played on a simulated clock (frames rendered by the runner)
    clock: Any = None          # the run's clock: the runner's, or a SimClock of its own (fast)
    demo_done: bool = False
    demo_started: float = 0.0
    holder_name: str = ""       # who runs it (a roster name) — shown to the other pages
    token: str = field(default_factory=lambda: uuid.uuid4().hex[:12])  # names this run's events
    lease: Any = None           # the pin lease this run holds
    last_frame: Any = field(default=None, repr=False)   # the newest picture, in memory only
    kept: int = 0               # pictures kept in this run
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def project_id(self) -> str:
        return self.project.id

    def snapshot(self) -> dict[str, Any]:
        """JSON-able state for the page and the API."""
        with self.lock:
            return self._snapshot()

    def _snapshot(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id, "project": self.project.id, "lesson": self.lesson_id,
            "status": self.status, "complete": self.complete, "started_at": self.started_at,
            "demo": self.demo is not None, "demo_done": self.demo_done,
            "token": self.token,
            "checks": {cid: r.as_dict() for cid, r in self.results.items()},
            # what each signal reads now: a page learns of a change from `lab.signal` events,
            # and one that came before the page knew its run (or while its stream was away)
            # would otherwise stay unseen until the value changes again
            "signals": self.log.latest("model"),
            "steps": [{"step": s.step_id, "check": s.check_id, "passed": s.step_id in self.passed,
                       "passed_at": self.passed.get(s.step_id)} for s in self.steps],
        }


def _model_named_in(exc: BaseException) -> str | None:
    """The model a ModelError is about (damaged, missing or unknown), else None."""
    import re

    from labkit.models.errors import ModelError

    if not isinstance(exc, ModelError) or exc.code not in ("model_damaged", "unknown_model",
                                                            "model_missing", "model"):
        return None
    found = re.search(r"model (?:named )?'?([A-Za-z0-9_.-]+)'?", exc.message)
    return found.group(1) if found else None


class LabRunner:
    """Starts and stops labs; at most one runs at a time on a kit."""

    def __init__(self, runtime: Any, store: Any = None, labs: Registry | None = None, *,
                 clock: RealClock | SimClock | None = None) -> None:
        self.runtime = runtime
        self.store = store
        self._labs = labs
        self.clock = clock or RealClock()
        self._lock = threading.RLock()
        self._active: ActiveLab | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._sub: Any = None
        self._runs = 0
        if store is not None:
            store.before_close(self.close)  # end the active run while the database is open
            n = store.runs.interrupt_dangling()
            if n:
                log.info("%d lab run(s) cut off by a restart marked as interrupted", n)

    @classmethod
    def for_runtime(cls, runtime: Any, store: Any = None) -> "LabRunner":
        """The kit's one runner (a runtime service)."""
        return runtime.service("labs.runner", lambda: cls(runtime, store))

    @property
    def active(self) -> ActiveLab | None:
        return self._active

    @property
    def labs(self) -> Registry:
        """The labs given, else the installation's (rediscovered after a pack changed)."""
        if self._labs is not None:
            return self._labs
        return default_registry(getattr(self.runtime.settings, "data_dir", None))

    # ---- start / stop ---------------------------------------------------------------------
    def start(self, project_id: str, *, steps: Sequence[StepBinding] | None = None,
              student_id: int | None = None, lesson_id: str = "", titles: tuple[str, str] = ("", ""),
              takeover: bool = False, demo: bool = False, holder_name: str = "",
              fast: bool = False,
              on_recorded: Callable[[int], None] | None = None) -> ActiveLab:
        """Start a lab. With a student, the run is recorded in their portfolio.

        Another lab already running is an error (`busy`) unless `takeover` — then it is
        stopped first (its run is kept as 'stopped'); the same for whoever else holds the
        kit's pin lease (drivers/pins.py). `demo` plays the lab's demo scenario;
        `holder_name` (a roster name) is what other pages are told holds the kit. `fast` (with
        `demo`) plays the scenario on a simulated clock of the run's own even when the runner
        keeps real time: the page's quick preview turns every step green in seconds.
        `on_recorded(run_id)` is called once the run is in the store and before anything about
        it is published, so whoever started it may open it by the time a page hears of it.
        """
        cls = self.labs.get(project_id)
        scenario = self._scenario(cls) if demo else None
        spec = getattr(cls, "spec", None)
        if steps is not None:
            bindings = list(steps)
        elif spec is not None and spec.steps():
            bindings = [StepBinding(s, c) for s, c in spec.step_bindings()]
        else:
            bindings = [StepBinding(c, c) for c in cls.check_ids()]
        for b in bindings:
            if b.check_id not in cls.checks:
                raise Problem(N_("The lesson step \"%(step)s\" needs the check \"%(check)s\", "
                                 "which lab \"%(project)s\" does not have."),
                              fix=N_("Run 'labkit curriculum check' to find the mistake."),
                              code="bad_lesson", step=b.step_id, check=b.check_id,
                              project=project_id)
        missing = [d for d in cls.devices() if d not in self.runtime.wiring]
        if missing:
            raise Problem(N_("This lab needs the device \"%(device)s\", which the kit's wiring "
                             "does not have."),
                          fix=N_("Add it to wiring.yaml in the data folder."),
                          code="unknown_device", device=missing[0])
        with self._lock:
            if self._active is not None:
                if not takeover:
                    raise Problem(N_("Another lab is running on this kit."),
                                  fix=N_("Stop it first, then start this one."), code="busy")
                self._stop_locked("stopped")
            holder = self._holder(cls.id, demo, holder_name)
            try:
                lease = self.runtime.pins.acquire(holder, takeover=takeover,
                                                  on_preempt=self._preempted)
            except PinsBusy as exc:
                raise Problem(N_("The kit is in use: %(holder)s."),
                              fix=N_("Wait until it has finished, or take over."), code="busy",
                              holder=exc.holder.name or exc.holder.kind) from None
            run_id = None
            if student_id is not None and self.store is not None:
                run_id = self.store.runs.start(student_id, lesson_id=lesson_id or project_id,
                                               project_id=project_id, steps_total=len(bindings),
                                               title_zh=titles[0], title_en=titles[1])
                if on_recorded is not None:
                    on_recorded(run_id)
            clock = SimClock(self.clock.now()) if fast and scenario is not None else self.clock
            lab_log = EventLog(clock=clock.now)
            # a demo's scripted /learn events stand in for the child's, so it hears every one
            ctx = LabContext(self.runtime, lab_log, run_id,
                             None if scenario is not None else student_id)
            lab = ActiveLab(cls(), bindings, lab_log, ctx, run_id, student_id,
                            lesson_id or project_id, started_at=clock.now())
            lab.demo, lab.fast = scenario, scenario is not None and clock.simulated
            lab.clock = clock
            ctx.simulated = lab.fast
            lab.holder_name, lab.lease = holder_name, lease
            lab_log.subscribe(lambda entry: self._on_log(lab, entry))
            self._prepare_hardware()
            if not lab.fast:  # on a simulated clock the runner reads the bench itself
                topics = ("bench.state", *cls.listens)
                self._sub = self.runtime.bus.subscribe(*topics, maxsize=1024)
            self._log_bench(lab, self.runtime.bench.state(), clock.now())
            try:
                lab.project.setup(ctx)
            except Exception as exc:
                log.exception("lab %s failed to start", project_id)
                lease.release()
                if self._sub is not None:
                    self._sub.close()
                self._sub = None
                self._release_hardware(lab)
                if run_id is not None:
                    self.store.runs.end(run_id, "stopped")
                if isinstance(exc, Problem):
                    raise
                model = _model_named_in(exc)
                if model is not None:
                    raise Problem(N_("The model %(model)s is damaged or missing, so this lab "
                                     "cannot start."),
                                  fix=N_("Restore it: run 'labkit models fetch %(model)s' on the "
                                         "kit, or import the model pack from a USB stick on the "
                                         "teacher page."),
                                  code="model_damaged", model=model) from exc
                raise Problem(N_("The lab could not start: %(reason)s"),
                              fix=N_("Check the kit with 'labkit doctor'."), code="lab_failed",
                              reason=str(exc)) from exc
            self._active = lab
            log.info("lab %s started (run %s, %d step(s))", project_id, run_id, len(bindings))
            self._publish("lab.state", lab, status="running")
            self._evaluate(lab)  # the page gets every check's starting point (0 of 3 …)
            lab.demo_started = clock.now()
            if scenario is not None and not lab.fast:
                self._show_demo(lab)
            self._stop = threading.Event()
            self._thread = threading.Thread(target=self._loop, args=(lab, self._stop),
                                            name=f"labkit-lab-{project_id}", daemon=True)
            self._thread.start()
        return lab

    def program_holder(self, student_id: int) -> Holder | None:
        """The holder a student's code-lab program runs as while their own `programs: true`
        lab runs: the lab's own, so the lease nests and the lab's log records what the
        program drives. None otherwise (the program takes the pins as itself, and a running
        lab refuses it)."""
        lab = self._active
        if (lab is None or lab.demo is not None or lab.student_id != student_id
                or lab.lease is None or not lab.lease.active):
            return None
        spec = getattr(lab.project, "spec", None)
        if spec is None or not spec.data.get("programs"):
            return None
        return lab.lease.holder

    def _stop_programs_of(self, holder_id: str, *, wait_s: float = 0.0) -> None:
        """A `programs: true` lab's student program runs under the lab's lease: when the lab
        ends, so does the program (it would otherwise keep the kit's pins in the lab's name).
        With `wait_s`, until each has ended: its pins put back and its share of the lease
        handed back."""
        sandbox = getattr(self.runtime, "services", {}).get("sandbox")
        if sandbox is None:
            return
        runs = [run for run in list(sandbox.running.values()) if run.holder.id == holder_id]
        for run in runs:
            run.stop("stopped")
        if wait_s <= 0:
            return
        for run in runs:
            if run.wait(wait_s) is None:
                log.warning("program run %s did not end with its lab", run.id)

    def _drive_output(self, name: str, value: Any) -> None:
        """A demo's `program:` item: set an output as the student's program would."""
        device = self.runtime.kit.device(name)
        if hasattr(device, "angle") and not isinstance(value, (list, tuple)):
            device.angle = float(value)
        elif isinstance(value, (list, tuple)):
            device.value = tuple(float(v) for v in value)
        else:
            device.value = float(value)

    def _holder(self, project_id: str, demo: bool, name: str) -> Holder:
        def progress() -> dict[str, Any]:
            lab = self._active
            if lab is None:
                return {"project": project_id}
            return {"project": project_id, "lesson": lab.lesson_id, "done": len(lab.passed),
                    "total": len(lab.steps)}
        self._runs += 1
        return Holder(f"lab:{self._runs}", "demo" if demo else "lab", name, progress=progress)

    def _preempted(self) -> None:
        """Someone took the kit over (after confirming): stop the lab, keep its run."""
        lab = self._active
        if lab is not None:
            if lab.lease is not None:
                self._stop_programs_of(lab.lease.holder.id)
            lab.lease = None   # no longer ours to release
            threading.Thread(target=self.stop, kwargs={"run_id": lab.run_id}, daemon=True,
                             name="labkit-lab-preempted").start()

    @staticmethod
    def _scenario(cls: type[Project]) -> Any:
        from labkit.projects.demo import Scenario

        spec = getattr(cls, "spec", None)
        items = spec.data.get("demo") if spec is not None else None
        if not items:
            raise Problem(N_("Lab \"%(project)s\" has no demo."),
                          fix=N_("Add a demo: scenario to its lab.yaml."), code="no_demo",
                          project=cls.id)
        return Scenario(items).prepare()

    def _show_demo(self, lab: ActiveLab) -> None:
        """Real-time demo: the kit's camera shows the scenario's scenes while it plays."""
        if lab.project.uses_camera():
            camera = self.runtime.camera
            camera.play(lambda t: lab.demo.frame_at(t))
            if getattr(camera, "_thread", None) is None:
                camera.start()

    def stop(self, status: str = "stopped", *, run_id: int | None = None) -> ActiveLab | None:
        """Stop the active lab (only if it is `run_id`, when given). Returns it, or None."""
        with self._lock:
            lab = self._active
            if lab is None or (run_id is not None and lab.run_id != run_id):
                return None
            self._stop_locked(status)
        return lab

    def _stop_locked(self, status: str) -> None:
        lab = self._active
        if lab is None:
            return
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)
        self._thread = None
        if self._sub is not None:
            self._sub.close()
            self._sub = None
        if lab.demo is not None and not lab.fast and hasattr(self.runtime.camera, "play"):
            self.runtime.camera.play(None)
        try:
            lab.project.teardown(lab.ctx)
        except Exception:
            log.exception("lab %s teardown failed", lab.project_id)
        self._release_hardware(lab)
        lab.status = status
        if lab.run_id is not None and self.store is not None:
            self._keep_record(lab)
            self.store.runs.end(lab.run_id, status)
        self._active = None
        log.info("lab %s %s (run %s): %d/%d step(s) passed", lab.project_id, status, lab.run_id,
                 len(lab.passed), len(lab.steps))
        self._publish("lab.state", lab, status=status)

    def close(self) -> None:
        self.stop("stopped")

    def _keep_record(self, lab: ActiveLab) -> None:
        """Keep what the lab's `record:` names with the run: each signal's highest value.

        A signal never logged as a number (the model never saw anyone) is kept as 0, so a
        run that counted nothing says so rather than missing from the class chart."""
        keepsakes = getattr(lab.project, "keepsakes", None)
        for name, data, suffix in (keepsakes() if callable(keepsakes) else ()):
            try:
                self.store.artefacts.save(lab.run_id, "sample", name, data, suffix)
            except Exception:
                log.exception("keeping %s of run %s failed", name, lab.run_id)
        spec = getattr(type(lab.project), "spec", None)
        record = (spec.data.get("record") or {}) if spec is not None else {}
        if not record:
            return
        measures: dict[str, float] = {}
        for name, signal in record.items():
            values = [float(e.value) for e in lab.log.entries(signal)
                      if isinstance(e.value, (int, float)) and not isinstance(e.value, bool)]
            measures[name] = max(values, default=0.0)
        try:
            self.store.runs.record_measures(lab.run_id, measures)
        except Exception:     # the run still ends; its steps are already kept
            log.exception("keeping the measures of run %s failed", lab.run_id)

    # ---- hardware hand-over ---------------------------------------------------------------
    def _prepare_hardware(self) -> None:
        stop_demo = getattr(self.runtime, "stop_idle_demo", None)
        if callable(stop_demo):
            stop_demo()
        self.runtime.kit.reset_outputs()

    def _release_hardware(self, lab: ActiveLab) -> None:
        # the lab's programs end first: each puts back the pins it drove and its share of
        # the lease, so the kit is free (and its outputs off) when the lab says it stopped
        if lab.lease is not None:
            self._stop_programs_of(lab.lease.holder.id, wait_s=PROGRAM_END_S)
        try:
            self.runtime.kit.reset_outputs()
        except Exception:
            log.exception("resetting outputs after lab %s failed", lab.project_id)
        if lab.lease is not None:
            lab.lease.release()
            lab.lease = None
        start_demo = getattr(self.runtime, "start_idle_demo", None)
        if callable(start_demo):
            start_demo()

    # ---- the loop -------------------------------------------------------------------------
    def _loop(self, lab: ActiveLab, stop: threading.Event) -> None:
        if lab.fast:
            self._loop_fast(lab, stop)
            return
        listener = None
        if getattr(lab.project, "uses_microphone", lambda: False)():
            mic = self.runtime.microphone
            listener = mic.listen() if mic is not None else None
        try:
            self._loop_real(lab, stop, listener)
        finally:
            if listener is not None:
                listener.close()

    def _loop_real(self, lab: ActiveLab, stop: threading.Event, listener: Any) -> None:
        seq = 0
        camera = self.runtime.camera if lab.project.uses_camera() else None
        last_eval, last_version = 0.0, -1
        played = 0.0
        while not stop.is_set():
            frame = None
            if camera is not None:
                frame = camera.wait_for_frame(seq, timeout=0.5)
                if frame is not None:
                    seq = frame.seq
            else:
                stop.wait(lab.project.tick_seconds)
            if stop.is_set():
                break
            if lab.demo is not None and not lab.demo_done:
                t = lab.clock.now() - lab.demo_started
                self._play_actions(lab, played, t, live=True)
                played = t
                if t > lab.demo.duration + DEMO_GRACE_S:
                    self._demo_finished(lab)
            self._drain(lab)
            if listener is not None:
                while (block := listener.get(timeout=0)) is not None:
                    self._call(lab, lab.project.hear, block)
            if camera is None or frame is not None:
                self._step(lab, frame)
            now = time.monotonic()
            if lab.log.version != last_version or now - last_eval >= EVAL_INTERVAL:
                last_eval, last_version = now, lab.log.version
                self._evaluate(lab)
            if self._too_many_errors(lab):
                break

    def _loop_fast(self, lab: ActiveLab, stop: threading.Event) -> None:
        """The demo on a simulated clock: render, detect, log, evaluate, advance one frame."""
        scenario = lab.demo
        dt = 1.0 / scenario.fps
        hears = getattr(lab.project, "uses_microphone", lambda: False)()
        sees = lab.project.uses_camera()
        tick, t = 0, 0.0
        while not stop.is_set():
            if lab.demo_done:
                stop.wait(0.1)   # played out: keep the result on show until stopped
                continue
            self._play_actions(lab, t, t + dt, live=False)
            if hears:
                self._call(lab, lab.project.hear, scenario.audio(t, t + dt))
            frame = scenario.frame_at(t) if sees else None
            self._step(lab, frame)
            self._log_bench(lab, self.runtime.bench.state(), lab.clock.now())
            self._evaluate(lab)
            if self._too_many_errors(lab):
                break
            tick += 1
            t = round(tick * dt, 6)   # no drift: frame n is at n/fps exactly
            lab.clock.advance(dt)
            if lab.complete or t > scenario.duration + DEMO_GRACE_S:
                self._demo_finished(lab)

    def _play_actions(self, lab: ActiveLab, t0: float, t1: float, *, live: bool) -> None:
        for kind, data in lab.demo.actions(t0, t1):
            try:
                if kind == "bench":
                    self.runtime.bench.apply(data)
                elif kind == "program":
                    self._drive_output(data["device"], data["value"])
                elif kind == "keep":
                    from labkit.errors import lazy_gettext as _

                    n = lab.kept + 1
                    self.keep_picture(str(_("Photo %(n)s", n=n)), run_id=lab.run_id,
                                      image=None if live else lab.demo.frame_at(t0))
                elif live:
                    self.runtime.bus.publish(data["topic"], data.get("data") or {})
                else:
                    self._deliver(lab, Event(data["topic"], data.get("data") or {},
                                             lab.clock.now()))
            except Exception as exc:
                self._failed(lab, exc)
        if live and getattr(lab.project, "uses_microphone", lambda: False)():
            mic = self.runtime.microphone
            for clip in lab.demo.sounds(t0, t1):
                if mic is not None:
                    mic.inject(clip)

    def _demo_finished(self, lab: ActiveLab) -> None:
        if lab.demo_done:
            return
        lab.demo_done = True
        passed = sum(1 for s in lab.steps if s.step_id in lab.passed)
        log.info("lab %s: demo played, %d/%d step(s) passed", lab.project_id, passed,
                 len(lab.steps))
        self._publish("lab.demo", lab, status="done", passed=passed, total=len(lab.steps))

    def _too_many_errors(self, lab: ActiveLab) -> bool:
        if lab.errors < MAX_STEP_ERRORS:
            return False
        log.error("lab %s stopped after %d errors: %s", lab.project_id, lab.errors,
                  lab.last_error)
        threading.Thread(target=self.stop, kwargs={"run_id": lab.run_id}, daemon=True).start()
        return True

    def _drain(self, lab: ActiveLab) -> None:
        sub = self._sub
        if sub is None:
            return
        while True:
            event = sub.get(timeout=0)
            if event is None:
                return
            if event.topic == "bench.state":
                self._log_bench(lab, event.data, event.ts)
            else:
                self._deliver(lab, event)

    def _log_bench(self, lab: ActiveLab, state: dict[str, Any], ts: float) -> None:
        for name, dev in state.items():
            lab.log.record_state("hw", name, device_signal(dev), ts)

    def _deliver(self, lab: ActiveLab, event: Event) -> None:
        self._call(lab, lab.project.on_event, event)

    def _step(self, lab: ActiveLab, frame: Any) -> None:
        if frame is not None:
            lab.last_frame = frame   # in memory only: kept only by keep_picture()
        self._call(lab, lab.project.step, frame)

    # ---- live settings (sliders) ----------------------------------------------------------
    def _running(self, run_id: int | None) -> ActiveLab:
        lab = self._active
        if lab is None or (run_id is not None and lab.run_id != run_id):
            raise Problem(N_("This lab run has ended."), fix=N_("Start the lab again."),
                          code="conflict")
        return lab

    def settings(self, run_id: int | None = None) -> dict[str, dict[str, float]]:
        """The running lab's slider values (detector → {slider: value})."""
        lab = self._running(run_id)
        read = getattr(lab.project, "settings", None)
        return read() if callable(read) else {}

    def apply_setting(self, detector: str, name: str, value: Any, *,
                      run_id: int | None = None) -> dict[str, dict[str, float]]:
        """Move one slider of the running lab (labkit/projects/parts.py); the change is
        logged as a `setting` entry. LabkitError on a slider the lab has not or a bad value."""
        lab = self._running(run_id)
        apply = getattr(lab.project, "apply_setting", None)
        if not callable(apply):
            raise Problem(N_("This lab has no sliders."), code="bad_input")
        with lab.lock:
            values = apply(lab.ctx, detector, name, value)
        lab.log.record("input", "setting", {"detector": detector, "name": name,
                                            "value": values[detector][name]})
        return values

    # ---- parts the class changes (neighbours' points and k, sound trials) -----------------
    def part_state(self, part: str, *, run_id: int | None = None,
                   name: str | None = None) -> dict[str, Any]:
        """What the running lab's `part` shows now (labkit/projects/lab.py part_state)."""
        lab = self._running(run_id)
        read = getattr(lab.project, "part_state", None)
        if not callable(read):
            raise Problem(N_("This lab has no such part."), code="bad_input")
        with lab.lock:
            return read(part, name)

    def part_input(self, part: str, body: dict[str, Any], *,
                   run_id: int | None = None) -> dict[str, Any]:
        """A student's change to a part of the running lab; logged by the lab."""
        lab = self._running(run_id)
        change = getattr(lab.project, "part_input", None)
        if not callable(change):
            raise Problem(N_("This lab has no such part."), code="bad_input")
        with lab.lock:
            return change(lab.ctx, part, body)

    # ---- a student's /learn model ---------------------------------------------------------
    def use_project(self, detector: str, project: Any, *, run_id: int | None = None
                    ) -> dict[str, Any] | None:
        """Let the running lab's teachable `detector` answer with a trained /learn `project`
        (None: its built-in demo again). Who may pick which project is the caller's to check
        (the web route: the run's student and the project's owner, or the teacher). The
        change is logged as a `model` entry (project id and name, or none) for `happened()`.
        LabkitError (wrong kind, untrained, no such detector) changes nothing."""
        lab = self._running(run_id)
        use = getattr(lab.project, "use_project", None)
        if not callable(use):
            raise Problem(N_("This lab does not use a model you taught."), code="bad_input")
        picked = use(lab.ctx, detector, project)
        lab.log.record("input", "model", {"detector": detector,
                                          "project": picked["id"] if picked else None,
                                          "name": picked["name"] if picked else None,
                                          "missing": picked["missing"] if picked else [],
                                          "unmapped": picked["unmapped"] if picked else []})
        return picked

    # ---- kept pictures --------------------------------------------------------------------
    def keep_picture(self, name: str, *, run_id: int | None = None, image: Any = None
                     ) -> tuple[Any, Any]:
        """Keep the running lab's camera picture (`image`, else the newest frame) in the
        student's portfolio — after the lab's `pictures:` rule covered every face
        (labkit/projects/pictures.py). Returns (artefact or None, what was covered or None);
        a demo without a student keeps nothing on disk. The lab's log gets a `kept` entry."""
        import cv2

        lab = self._active
        if lab is None or (run_id is not None and lab.run_id != run_id):
            raise Problem(N_("This lab run has ended."), fix=N_("Start the lab again."),
                          code="conflict")
        if image is None:
            frame = self.runtime.camera.read() if lab.project.uses_camera() else None
            image = frame if frame is not None else lab.last_frame
        image = getattr(image, "image", image)
        if image is None:
            raise Problem(N_("The camera has no picture yet."),
                          fix=N_("Wait a moment and try again."), code="busy")
        rule = lab.project.picture_rule()
        protected = None
        if rule is not None:
            from labkit.projects.pictures import protect

            protected = protect(image, rule, self.runtime.model_store)
            image = protected.image
        ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 85])
        if not ok:
            raise Problem(N_("The picture could not be saved."), code="busy")
        artefact = None
        if lab.run_id is not None and self.store is not None:
            artefact = self.store.artefacts.save(lab.run_id, "sample", name, buf.tobytes(),
                                                 ".jpg")
        lab.kept += 1
        lab.log.record("input", "kept", {"n": lab.kept, "rule": rule or "none",
                                         **(protected.as_log() if protected else {})})
        return artefact, protected

    def _call(self, lab: ActiveLab, method: Any, arg: Any) -> None:
        """Run a lab's own code; its exceptions are counted and shown, never fatal here."""
        try:
            method(lab.ctx, arg)
            lab.errors = 0
        except Exception as exc:
            self._failed(lab, exc)

    def _failed(self, lab: ActiveLab, exc: Exception) -> None:
        lab.errors += 1
        message = f"{type(exc).__name__}: {exc}"
        if message != lab.last_error:
            log.exception("lab %s step failed", lab.project_id)
            self._publish("lab.error", lab, message=str(exc))
        lab.last_error = message

    # ---- checks ---------------------------------------------------------------------------
    def _evaluate(self, lab: ActiveLab) -> None:
        try:
            results = lab.project.evaluate(lab.log)
        except Exception as exc:
            self._failed(lab, exc)
            return
        with lab.lock:
            events = self._apply_results(lab, results)
        for topic, data in events:
            self._publish(topic, lab, **data)

    def _apply_results(self, lab: ActiveLab,
                       results: dict[str, CheckResult]) -> list[tuple[str, dict[str, Any]]]:
        events: list[tuple[str, dict[str, Any]]] = []
        for check_id, result in results.items():
            before = lab.results.get(check_id)
            lab.results[check_id] = result
            if before is None or (before.passed, before.count, before.target) != \
                    (result.passed, result.count, result.target):
                bound = [s.step_id for s in lab.steps if s.check_id == check_id]
                latched = result.passed or any(s in lab.passed for s in bound)
                events.append(("lab.check", {"check": check_id, "steps": bound,
                                             "passed": latched, "count": result.count,
                                             "target": result.target}))
        for binding in lab.steps:
            result = results.get(binding.check_id)
            if result is None or not result.passed or binding.step_id in lab.passed:
                continue
            now = (lab.clock or self.clock).now()
            if lab.run_id is not None and self.store is not None:
                try:
                    self.store.runs.record_step(lab.run_id, binding.step_id, binding.check_id,
                                                result.detail, at=steady.now())
                except Exception:  # e.g. a full SD card: keep the step open, retry next time
                    log.exception("lab %s: cannot record step %s", lab.project_id,
                                  binding.step_id)
                    continue
            lab.passed[binding.step_id] = now
            lab.log.record("note", "step", binding.step_id)   # for in_order()
            log.info("lab %s: step %s passed (check %s: %s)", lab.project_id, binding.step_id,
                     binding.check_id, result.detail)
            events.append(("lab.step", {"step": binding.step_id, "check": binding.check_id,
                                        "passed_at": now}))
        if not lab.complete and lab.steps and len(lab.passed) == len(lab.steps):
            lab.complete = True
            log.info("lab %s: all %d step(s) passed", lab.project_id, len(lab.steps))
            events.append(("lab.state", {"status": "complete"}))
        return events

    # ---- bus ------------------------------------------------------------------------------
    def _on_log(self, lab: ActiveLab, entry: LogEntry) -> None:
        if entry.source == "model":
            log.debug("lab %s: %s = %r", lab.project_id, entry.name, entry.value)
            self._publish("lab.signal", lab, name=entry.name, value=entry.value)

    def _event(self, lab: ActiveLab, **data: Any) -> dict[str, Any]:
        return {"run_id": lab.run_id, "token": lab.token, "project": lab.project_id,
                "lesson": lab.lesson_id, **data}

    def _publish(self, topic: str, lab: ActiveLab, **data: Any) -> None:
        self.runtime.bus.publish(topic, self._event(lab, **data))

    def state_event(self) -> dict[str, Any] | None:
        """The `lab.state` event of the lab running now, None when none runs.

        Why: a page whose event stream connects (or reconnects) after a lab started has missed
        that event; the stream sends this first so the page needs no second request. It is
        marked `resumed` so a page does not take it for a fresh start."""
        lab = self._active
        return None if lab is None else self._event(lab, status="running", resumed=True)
