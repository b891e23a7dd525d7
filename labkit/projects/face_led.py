"""Example lab (体验 band): the LED follows whether a face is in view.

The kit does what gpiozero's docs teach — `led.source = faces.present` — and the student
watches it happen: walk into view, the LED lights; walk away, it goes dark. The checks read
the event log: the LED's on/off periods (from the bench) against the face signal (from the
detector), so "the LED was on while a face was visible, 3 times" is literally what is counted.
"""

from __future__ import annotations

from typing import Any

from labkit.projects.base import CheckResult, LabContext, Project, check
from labkit.projects.eventlog import EventLog, complement, count_overlapping

MIN_OVERLAP_S = 0.2   # the LED must really be on during the face, not just flicker past it
TIMES_ON = 3
TIMES_OFF = 2


class FaceLed(Project):
    id = "face_led"
    band = "experience"
    hardware = ("camera", "led")
    title = "Face → LED"

    def setup(self, ctx: LabContext) -> None:
        from labkit.vision import FaceDetector  # imported here: discovery stays model-free

        models = ctx.runtime.model_store  # the kit's one shared store
        # bus=: the page draws the face boxes over the live view from `vision.face` events
        self.faces: Any = FaceDetector(ctx.camera, store=models, bus=ctx.bus)
        ctx.kit.led.source = self.faces.present

    def step(self, ctx: LabContext, frame: Any) -> None:
        ctx.signal("face", bool(self.faces.present.is_active))

    def teardown(self, ctx: LabContext) -> None:
        ctx.kit.led.source = None
        ctx.kit.led.off()
        self.faces.close()

    @check("face_seen", description="the camera saw a face")
    def face_seen(self, log: EventLog) -> CheckResult:
        return CheckResult.counting(len(log.rises("face")), 1)

    @check("led_on_with_face",
           description=f"the LED was on while a face was visible, {TIMES_ON} times")
    def led_on_with_face(self, log: EventLog) -> CheckResult:
        n = count_overlapping(log.intervals("led"), log.intervals("face"), MIN_OVERLAP_S)
        return CheckResult.counting(n, TIMES_ON)

    @check("led_off_without_face",
           description=f"the LED was off while no face was visible, {TIMES_OFF} times")
    def led_off_without_face(self, log: EventLog) -> CheckResult:
        led_on = log.intervals("led")
        if not led_on:
            return CheckResult.counting(0, TIMES_OFF)
        now = log.clock()
        # only the dark periods after the LED first lit count (before that nothing happened)
        led_off = complement(led_on, led_on[0][0], now)
        entries = log.entries()
        start = entries[0].ts if entries else now
        no_face = complement(log.intervals("face"), start, now)
        return CheckResult.counting(count_overlapping(led_off, no_face, MIN_OVERLAP_S), TIMES_OFF)
