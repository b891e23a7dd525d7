"""lab.yaml made runnable: expressions for signals and bindings, and a bench-only lab end to
end on a simulated clock (no model needed)."""

from __future__ import annotations

import time
from typing import Any

import pytest
from gpiozero.mixins import ValuesMixin

from labkit.projects.bindings import COLOURS, Scope, reader, target
from labkit.projects.clock import SimClock
from labkit.projects.expr import ExprError
from labkit.projects.registry import discover
from labkit.projects.runner import LabRunner
from tests.fixtures.labs import FIXTURE_LABS

LABS = discover([(FIXTURE_LABS, "fixture")])


class Thing(ValuesMixin):
    """A stand-in device: `value` (and gpiozero's `values`), a plain attribute and a
    sub-signal method."""

    def __init__(self) -> None:
        self.value = 0.0
        self.is_pressed = False

    def label_is(self, word: str) -> Any:
        parent = self

        class Sub:
            @property
            def value(self) -> int:
                return 1 if parent.value >= 1 and word == "fist" else 0
        return Sub()


class Kit:
    def __init__(self) -> None:
        self.led = Thing()

    def device(self, name: str) -> Any:
        return getattr(self, name)


def test_readers_follow_their_device_every_time() -> None:
    thing, kit = Thing(), Kit()
    scope = Scope({"t": thing}, kit)
    value, pressed = reader("t", scope), reader("t.is_pressed", scope)
    fist, led = reader("t.label_is(fist)", scope), reader("kit.led", scope)
    colour = reader("choose(t, {0: off, 1: red, 2: green})", scope)
    flipped = reader("negated(t)", scope)
    assert (value(), pressed(), fist(), led(), colour(), flipped()) == \
        (0.0, False, False, 0.0, list(COLOURS["off"]), True)
    thing.value, thing.is_pressed, kit.led.value = 1.0, True, 1.0
    assert (value(), pressed(), fist(), led(), colour(), flipped()) == \
        (1.0, True, True, 1.0, list(COLOURS["red"]), False)
    thing.value = 7.0          # above every key: the largest key's entry
    assert colour() == list(COLOURS["green"])


@pytest.mark.parametrize("source, words", [
    ("ghost.present", "'ghost' is not a detector or device of this lab"),
    ("t._secret", "private names are not allowed"),
    ("t.nothing", "t has no 'nothing'"),
    ("evil(t)", "evil() is not a helper"),
    ("t.label_is", "is a method; call it"),
    ("t + 1", "BinOp is not allowed"),
])
def test_bad_expressions_say_why(source: str, words: str) -> None:
    with pytest.raises(ExprError) as exc:
        reader(source, Scope({"t": Thing()}, Kit()))
    assert words in str(exc.value)


def test_binding_targets_must_be_wired() -> None:
    kit = Kit()
    assert target("led.source", kit, {"led"}) == (kit.led, "value")
    assert target("led.brightness", kit, {"led"}) == (kit.led, "brightness")
    with pytest.raises(ExprError, match="not in the lab's wiring"):
        target("pump.source", kit, {"led"})


def test_a_bench_lab_drives_its_outputs_and_hands_them_back(runtime: Any) -> None:
    runner = LabRunner(runtime, None, LABS, clock=SimClock(500.0))
    lab = runner.start("button_bench_test", demo=True)
    try:
        deadline = time.monotonic() + 30
        while not lab.demo_done and time.monotonic() < deadline:
            time.sleep(0.02)
        assert lab.complete, lab.snapshot()["checks"]
        rgb = [e.value for e in lab.log.entries("rgb")]
        assert [1.0, 0.0, 0.0] in rgb and [0.0, 0.0, 1.0] in rgb     # pressed red, else blue
        assert {e.value for e in lab.log.entries("servo")} >= {-90.0, 90.0}
        assert runtime.pins.describe()["kind"] == "demo"
    finally:
        runner.stop()
    assert runtime.bench.state()["led"]["value"] == 0.0
    assert runtime.pins.describe() is None


def test_a_sound_lab_feeds_the_page_meter(runtime: Any) -> None:
    levels = runtime.bus.subscribe("audio.level")
    runner = LabRunner(runtime, None, LABS, clock=SimClock(0.0))
    lab = runner.start("clap_lamp_test", demo=True)
    try:
        deadline = time.monotonic() + 30
        while not lab.demo_done and time.monotonic() < deadline:
            time.sleep(0.02)
        assert lab.complete
    finally:
        runner.stop()
    got = []
    while (event := levels.get(timeout=0.1)) is not None:
        got.append(event.data)
    levels.close()
    assert len(got) > 20 and {"db", "value", "loud", "threshold_db"} <= set(got[0])
    assert max(g["db"] for g in got) - min(g["db"] for g in got) > 20   # the claps show


def test_a_smoothed_input_is_read_from_its_pin_on_a_simulated_clock() -> None:
    """A MotionSensor's queue is filled on the wall clock; a demo on a simulated clock reads
    the pin itself, so a "3 s" motion played in a millisecond is never missed."""
    from gpiozero import Button, MotionSensor
    from gpiozero.pins.mock import MockFactory

    from labkit.projects.lab import PinReading

    factory = MockFactory()
    sensor = MotionSensor(4, pin_factory=factory)
    button = Button(5, pin_factory=factory)
    try:
        motion, press = PinReading(sensor), PinReading(button)
        assert (motion.value, motion.motion_detected, press.is_pressed) == (0, False, False)
        sensor.pin.drive_high()
        button.pin.drive_low()          # a Button is pulled up: pressed is low
        assert (motion.value, motion.motion_detected, press.is_pressed) == (1, True, True)
        assert next(iter(motion.values)) == 1
        assert motion.pin is sensor.pin    # everything else is the device's own
    finally:
        sensor.close()
        button.close()


def test_a_signal_is_logged_before_the_output_that_follows_it(runtime: Any) -> None:
    """The bench logs an output's change at the moment it polled it: were the output driven
    before its signal was logged, a poll in between would put the LED on before the press it
    follows (a busy machine holds the lab's thread up there)."""
    runner = LabRunner(runtime, None, LABS)
    lab = runner.start("button_bench_test")
    led_when_logged: list[float] = []
    lab.log.subscribe(lambda entry: led_when_logged.append(runtime.kit.led.value)
                      if entry.name == "pressed" and entry.value else None)
    try:
        runtime.bench.apply({"device": "button", "action": "press"})
        deadline = time.monotonic() + 15
        while not (led_when_logged and lab.log.entries("led")[-1].value) \
                and time.monotonic() < deadline:
            time.sleep(0.02)
        assert led_when_logged == [0.0], "the LED was driven before the press was logged"
        pressed = lab.log.rises("pressed")
        lit = lab.log.rises("led")
        assert pressed and lit and lit[0] >= pressed[0], (pressed, lit)
    finally:
        runtime.bench.apply({"device": "button", "action": "release"})
        runner.stop()
