"""The Project API: what one graded lab is, as the runner sees it.

A lab is normally a folder with a lab.yaml (docs/lab-format.md), which `labkit.projects.lab`
turns into a `Project` subclass; this base class is also what tests and experiments subclass
by hand:

    class ButtonLed(Project):
        id = "button_led_test"
        band = "experience"                 # experience 体验 · cognition 认知 · creative 创新实践
        hardware = ("button", "led")        # kit device names (wiring.yaml) + camera/microphone

        def setup(self, ctx):               # once, when the lab starts
            ctx.kit.led.source = ctx.kit.button

        def step(self, ctx, frame):         # every new camera frame (or every tick)
            ctx.signal("pressed", ctx.kit.button.is_pressed)

        @check("pressed_twice")             # named checks read the event log only
        def pressed_twice(self, log):
            return CheckResult.counting(len(log.rises("button")), 2)

Each lesson step is bound to a check id; the runner evaluates the checks as the log grows and
marks steps passed. Checks read only the log, so they can be tested with a hand-written log.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, ClassVar

from labkit.bands import BANDS
from labkit.errors import LabkitError
from labkit.projects.eventlog import EventLog

if TYPE_CHECKING:  # imported for hints only: projects sit below the runtime layer
    from labkit.drivers.camera import Frame
    from labkit.events import Event

__all__ = ["BANDS", "CheckResult", "CheckSpec", "LabContext", "Project", "check"]
NON_PIN_HARDWARE = ("camera", "microphone", "speaker")
ID_PATTERN = re.compile(r"[a-z][a-z0-9_]{1,47}")


@dataclass(frozen=True)
class CheckResult:
    """One check's verdict and its progress (e.g. 2 of 3 times) for the page."""

    passed: bool
    count: float = 0
    target: float = 1
    detail: str = ""

    @classmethod
    def counting(cls, count: float, target: float, detail: str = "") -> "CheckResult":
        return cls(count >= target, min(count, target), target,
                   detail or f"{count} (needed {target})")

    @classmethod
    def boolean(cls, passed: bool, detail: str = "") -> "CheckResult":
        return cls(bool(passed), 1 if passed else 0, 1, detail)

    def as_dict(self) -> dict[str, Any]:
        return {"passed": self.passed, "count": self.count, "target": self.target,
                "detail": self.detail}


@dataclass(frozen=True)
class CheckSpec:
    id: str
    method: str
    description: str = ""


def check(check_id: str, *, description: str = "") -> Callable[[Callable[..., CheckResult]],
                                                                Callable[..., CheckResult]]:
    """Mark a method `(self, log) -> CheckResult` as the check `check_id`."""
    if not ID_PATTERN.fullmatch(check_id):
        raise ValueError(f"check id {check_id!r} must be lower_snake_case")

    def mark(fn: Callable[..., CheckResult]) -> Callable[..., CheckResult]:
        fn._labkit_check = CheckSpec(check_id, fn.__name__,  # type: ignore[attr-defined]
                                     description or (fn.__doc__ or "").strip().split("\n")[0])
        return fn
    return mark


class LabContext:
    """What a running lab may use: the kit's devices, camera, bus, its log, shared services."""

    def __init__(self, runtime: Any, log: EventLog, run_id: int | None = None,
                 student_id: int | None = None) -> None:
        self.runtime = runtime
        self.kit = runtime.kit
        self.camera = runtime.camera
        self.bus = runtime.bus
        self.settings = runtime.settings
        self.log = log
        self.run_id = run_id
        self.student_id = student_id   # whose run this is (None: a demo, or nobody's)
        self.simulated = False   # True while a demo plays on a simulated clock

    @property
    def microphone(self) -> Any:
        return self.runtime.microphone

    def hears(self, topic: str, data: Any) -> bool:
        """Does a bus event count for this run? Everyone's /learn events reach the bus, but
        a student's run counts only those about a project of theirs: another child training
        on the same kit must not pass this child's step."""
        if self.student_id is None or not topic.startswith("learn."):
            return True
        project_id = data.get("project") if isinstance(data, dict) else None
        if project_id is None:
            return True
        learn = getattr(self.runtime, "services", {}).get("learn")
        if learn is None:
            return False
        try:
            owner = learn.projects.get(str(project_id)).owner
        except LabkitError:   # a project deleted meanwhile: not this child's
            return False
        return owner == self.student_id

    def service(self, name: str, factory: Callable[[], Any]) -> Any:
        """A detector or model shared with the rest of the kit process (one per kit)."""
        return self.runtime.service(name, factory)

    def signal(self, name: str, value: Any) -> None:
        """Record a model signal (e.g. face visible) — logged only when it changes."""
        self.log.record_state("model", name, value)

    def event(self, name: str, value: Any = True) -> None:
        """Record a one-off model event (e.g. a keyword was heard)."""
        self.log.record("model", name, value)


class Project:
    """Base class of every lab. Subclasses set `id`, `band`, `hardware` and add checks."""

    id: ClassVar[str] = ""
    band: ClassVar[str] = ""
    hardware: ClassVar[tuple[str, ...]] = ()
    title: ClassVar[str] = ""               # English, for terminal logs; pages use the lesson
    listens: ClassVar[tuple[str, ...]] = ()  # bus topics delivered to on_event()
    tick_seconds: ClassVar[float] = 0.1      # step() interval when not driven by camera frames
    checks: ClassVar[dict[str, CheckSpec]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        found: dict[str, CheckSpec] = {}
        for klass in reversed(cls.__mro__):
            for attr in vars(klass).values():
                spec = getattr(attr, "_labkit_check", None)
                if isinstance(spec, CheckSpec):
                    found[spec.id] = spec
        cls.checks = found
        if not cls.id:
            return  # an abstract helper base, not a lab
        if not ID_PATTERN.fullmatch(cls.id):
            raise TypeError(f"{cls.__name__}.id {cls.id!r} must be lower_snake_case")
        if cls.band not in BANDS:
            raise TypeError(f"{cls.__name__}.band {cls.band!r} must be one of {BANDS}")
        if not found:
            raise TypeError(f"{cls.__name__} has no @check methods; a lab needs at least one")
        if isinstance(cls.hardware, str):
            raise TypeError(f"{cls.__name__}.hardware must be a tuple of device names")

    # ---- lifecycle (override what you need) -----------------------------------------------
    def setup(self, ctx: LabContext) -> None:
        """Connect devices and detectors. Runs once per start."""

    def step(self, ctx: LabContext, frame: "Frame | None") -> None:
        """Called for every new camera frame (labs needing the camera) or every tick."""

    def on_event(self, ctx: LabContext, event: "Event") -> None:
        """Called for each bus event whose topic is in `listens`."""

    @classmethod
    def picture_rule(cls) -> str | None:
        """How a kept camera picture's faces are covered first ("blur", "box"), or None to
        keep it as it is (labkit/projects/pictures.py)."""
        return None

    def teardown(self, ctx: LabContext) -> None:
        """Disconnect what setup connected. The runner also switches outputs off."""

    # ---- checks ---------------------------------------------------------------------------
    @classmethod
    def check_ids(cls) -> list[str]:
        return list(cls.checks)

    @classmethod
    def uses_camera(cls) -> bool:
        return "camera" in cls.hardware

    @classmethod
    def devices(cls) -> list[str]:
        """The wired kit devices this lab needs (hardware minus camera/microphone/speaker)."""
        return [h for h in cls.hardware if h not in NON_PIN_HARDWARE]

    def evaluate(self, log: EventLog) -> dict[str, CheckResult]:
        """Every check's current result."""
        out = {}
        for check_id, spec in self.checks.items():
            result = getattr(self, spec.method)(log)
            if not isinstance(result, CheckResult):
                result = CheckResult.boolean(bool(result))
            out[check_id] = result
        return out
