"""Lab framework fixtures: a tiny button → LED lab that runs on the virtual bench (no model)."""

from __future__ import annotations

from typing import Any, Iterator

import pytest

from labkit.projects.base import CheckResult, LabContext, Project, check
from labkit.projects.eventlog import EventLog
from labkit.projects.registry import Registry


class ButtonLed(Project):
    """The LED follows the bench's button; checks count presses and LED flashes."""

    id = "button_led_test"
    band = "experience"
    hardware = ("button", "led")
    title = "Button → LED (test lab)"

    def setup(self, ctx: LabContext) -> None:
        ctx.kit.led.source = ctx.kit.button
        self.steps_seen = 0

    def step(self, ctx: LabContext, frame: Any) -> None:
        self.steps_seen += 1
        ctx.signal("pressed", bool(ctx.kit.button.is_pressed))

    def teardown(self, ctx: LabContext) -> None:
        ctx.kit.led.source = None

    @check("pressed_twice", description="the button was pressed twice")
    def pressed_twice(self, log: EventLog) -> CheckResult:
        return CheckResult.counting(len(log.rises("button")), 2)

    @check("led_lit")
    def led_lit(self, log: EventLog) -> CheckResult:
        """the LED lit at least once"""
        return CheckResult.counting(len(log.rises("led")), 1)


class NeedsPump(Project):
    id = "needs_a_pump_test"
    band = "cognition"
    hardware = ("pump2",)

    @check("never")
    def never(self, log: EventLog) -> CheckResult:
        return CheckResult.boolean(False)


class BrokenSetup(Project):
    id = "broken_setup_test"
    band = "creative"
    hardware = ("led",)

    def setup(self, ctx: LabContext) -> None:
        raise RuntimeError("the model file is missing")

    @check("never")
    def never(self, log: EventLog) -> CheckResult:
        return CheckResult.boolean(False)


class CrashingStep(Project):
    id = "crashing_step_test"
    band = "creative"
    hardware = ("led",)
    tick_seconds = 0.01

    def step(self, ctx: LabContext, frame: Any) -> None:
        raise ValueError("bad sensor value")

    @check("never")
    def never(self, log: EventLog) -> CheckResult:
        return CheckResult.boolean(False)


@pytest.fixture
def labs() -> Registry:
    reg = Registry()
    for cls in (ButtonLed, NeedsPump, BrokenSetup, CrashingStep):
        reg.projects[cls.id] = cls
    return reg


@pytest.fixture
def kid(store: Any) -> Any:
    cls = store.roster.add_class("一班")
    return store.roster.add_student(cls.id, "王芳")


@pytest.fixture
def runner(runtime: Any, store: Any, labs: Registry) -> Iterator[Any]:
    from labkit.projects.runner import LabRunner

    r = LabRunner(runtime, store, labs)
    yield r
    r.close()
