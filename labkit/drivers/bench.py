"""The virtual bench: the kit's devices as a live dict, and simulated inputs.

The bench reads device state from the *pins* (not from device objects), so whatever drives
pin 17 — `kit.led`, a student's own `LED(17)`, a lab — shows up. In simulation it also owns the
twins of the input hardware: pressing the bench's button drives pin 26 low (firing
`Button.when_pressed`), the distance slider sets the HC-SR04 twin's echo time, and the sensor
sliders set the MCP3008 twin's channels. A poll thread publishes `bench.state` on every change.
"""

from __future__ import annotations

import logging
import math
import threading
from typing import Any

from labkit.drivers.gpio import SimMCP3008, SimTriggerPin
from labkit.drivers.kit import Kit
from labkit.drivers.wiring import DeviceSpec, Wiring
from labkit.errors import LabkitError
from labkit.events import EventBus

log = logging.getLogger(__name__)

ADC_VREF = 3.3


def tmp36_celsius(value: float) -> float:
    """TMP36: 0.5 V at 0 °C, 10 mV per °C; `value` is the MCP3008 reading (0–1 of 3.3 V)."""
    return (value * ADC_VREF - 0.5) * 100.0


def tmp36_value(celsius: float) -> float:
    return (celsius / 100.0 + 0.5) / ADC_VREF


class VirtualBench:
    """Live state of every wired device, plus simulated inputs when not on real hardware."""

    def __init__(self, kit: Kit, bus: EventBus | None = None, poll_interval: float = 0.05) -> None:
        self.kit = kit
        self.wiring: Wiring = kit.wiring
        self.factory = kit.factory
        self.simulated = kit.hardware == "sim"
        self.bus = bus or EventBus()
        self.poll_interval = poll_interval
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last: dict[str, Any] | None = None
        self._triggers: dict[str, SimTriggerPin] = {}
        self._adc: SimMCP3008 | None = None
        if self.simulated:
            self._build_twins()

    # ---- simulated hardware -------------------------------------------------------------
    def _build_twins(self) -> None:
        defaults = {"light": 0.6, "soil": 0.4}
        for spec in self.wiring.devices.values():
            if spec.type == "DistanceSensor":
                echo = self.factory.pin(spec.pins["echo"])
                self._triggers[spec.name] = self.factory.pin(
                    spec.pins["trigger"], pin_class=SimTriggerPin, echo_pin=echo, distance=0.8)
            elif spec.type == "MCP3008":
                if self._adc is None:
                    self._adc = SimMCP3008(self.factory)
                value = (tmp36_value(22.0) if spec.options["sensor"] == "TMP36"
                         else defaults.get(spec.name, 0.5))
                self._adc.values[spec.options["channel"]] = value
            elif spec.type == "Button":
                pin = self.factory.pin(spec.pins["pin"])
                (pin.drive_high if spec.options["pull_up"] else pin.drive_low)()
            elif spec.type == "MotionSensor":
                self.factory.pin(spec.pins["pin"]).drive_low()

    # ---- reading ------------------------------------------------------------------------
    def _pin(self, number: int) -> Any:
        return self.factory.pin(number)

    def _pin_value(self, number: int) -> float:
        try:
            return float(self._pin(number).state)
        except Exception:  # a real pin that cannot be read (e.g. unconfigured) shows as off
            return 0.0

    def _servo_angle(self, spec: DeviceSpec) -> float | None:
        pin = self._pin(spec.pins["pin"])
        freq = getattr(pin, "frequency", None)
        duty = self._pin_value(spec.pins["pin"])
        if not freq or duty <= 0:
            return None
        o = spec.options
        pulse = duty / freq
        span = o["max_pulse_width"] - o["min_pulse_width"]
        frac = (pulse - o["min_pulse_width"]) / span
        return round(o["min_angle"] + frac * (o["max_angle"] - o["min_angle"]), 1)

    def _analog(self, spec: DeviceSpec) -> float | None:
        if self.simulated:
            assert self._adc is not None
            return self._adc.values[spec.options["channel"]]
        try:
            return float(self.kit.device(spec.name).value)
        except Exception as exc:
            log.debug("cannot read %s: %s", spec.name, exc)
            return None

    def _distance(self, spec: DeviceSpec) -> float | None:
        if self.simulated:
            return self._triggers[spec.name].distance
        try:
            return float(self.kit.device(spec.name).distance)
        except Exception as exc:
            log.debug("cannot read %s: %s", spec.name, exc)
            return None

    def device_state(self, spec: DeviceSpec) -> dict[str, Any]:
        state: dict[str, Any] = {"type": spec.type, "role": spec.role, "pins": spec.pins}
        t = spec.type
        if t == "RGBLED":
            state["value"] = [round(self._pin_value(spec.pins[c]), 3)
                              for c in ("red", "green", "blue")]
        elif t == "AngularServo":
            state["angle"] = self._servo_angle(spec)
            state["min_angle"], state["max_angle"] = spec.options["min_angle"], spec.options["max_angle"]
        elif t == "TonalBuzzer":
            pin = self._pin(spec.pins["pin"])
            state["value"] = round(self._pin_value(spec.pins["pin"]), 3)
            state["frequency"] = getattr(pin, "frequency", None)
        elif spec.role == "output":
            state["value"] = round(self._pin_value(spec.pins["pin"]), 3)
        elif t == "Button":
            level = self._pin_value(spec.pins["pin"])
            state["pressed"] = bool(level) != bool(spec.options["pull_up"])
        elif t == "MotionSensor":
            state["active"] = bool(self._pin_value(spec.pins["pin"]))
        elif t == "DistanceSensor":
            d = self._distance(spec)
            state["distance"] = None if d is None else round(d, 3)
            state["max_distance"] = spec.options["max_distance"]
        elif t == "MCP3008":
            state["channel"] = spec.options["channel"]
            v = self._analog(spec)
            state["value"] = None if v is None else round(v, 4)
            if spec.options["sensor"] == "TMP36" and v is not None:
                state["celsius"] = round(tmp36_celsius(v), 1)
        return state

    def state(self) -> dict[str, Any]:
        """Every wired device's current state, keyed by device name."""
        with self._lock:
            return {name: self.device_state(spec) for name, spec in self.wiring.devices.items()}

    # ---- simulated input ----------------------------------------------------------------
    def apply(self, event: dict[str, Any]) -> dict[str, Any]:
        """Apply one simulated input, e.g. {"device": "button", "action": "press"}.

        Returns the device's new state. Raises LabkitError for anything malformed.
        """
        if not isinstance(event, dict):
            raise LabkitError("a bench input must be a JSON object", code="bad_input",
                              fix='send e.g. {"device": "button", "action": "press"}')
        name = event.get("device")
        if not isinstance(name, str) or name not in self.wiring:
            raise LabkitError(f"the kit has no device called {name!r}", code="unknown_device",
                              fix=f"use one of: {', '.join(self.wiring.names())}")
        spec = self.wiring[name]
        if not self.simulated:
            raise LabkitError("inputs can only be driven on the virtual bench", code="real_hardware",
                              fix="use the real sensor, or run with LABKIT_HARDWARE=sim")
        with self._lock:
            if spec.type == "Button":
                self._button(spec, event.get("action"))
            elif spec.type == "MotionSensor":
                self._motion(spec, event)
            elif spec.type == "DistanceSensor":
                value = self._number(event, "value", 0.02, spec.options["max_distance"], "metres")
                self._triggers[name].distance = value
            elif spec.type == "MCP3008":
                assert self._adc is not None
                if spec.options["sensor"] == "TMP36" and "celsius" in event:
                    value = tmp36_value(self._number(event, "celsius", -40, 125, "°C"))
                else:
                    value = self._number(event, "value", 0.0, 1.0, "a fraction 0–1")
                self._adc.values[spec.options["channel"]] = value
            else:
                raise LabkitError(f"{name} is an output; the kit drives it, not the page",
                                  code="not_an_input", fix="drive an input: button, motion, "
                                  "distance or a sensor")
            new_state = self.device_state(spec)
        self.bus.publish("bench.input", {"device": name, **{k: v for k, v in event.items()
                                                            if k != "device"}})
        self.poll_once()
        return new_state

    def _button(self, spec: DeviceSpec, action: Any) -> None:
        pin = self._pin(spec.pins["pin"])
        pressed_level_low = bool(spec.options["pull_up"])
        if action not in ("press", "release", "click"):
            raise LabkitError(f"button action {action!r} is unknown", code="bad_input",
                              fix="use press, release or click")
        if action in ("press", "click"):
            (pin.drive_low if pressed_level_low else pin.drive_high)()
        if action in ("release", "click"):
            (pin.drive_high if pressed_level_low else pin.drive_low)()

    def _motion(self, spec: DeviceSpec, event: dict[str, Any]) -> None:
        value = event.get("value", event.get("action"))
        if value in (True, "on", "start", 1):
            self._pin(spec.pins["pin"]).drive_high()
        elif value in (False, "off", "stop", 0):
            self._pin(spec.pins["pin"]).drive_low()
        else:
            raise LabkitError(f"motion value {value!r} is unknown", code="bad_input",
                              fix="send value true (someone moves) or false")

    @staticmethod
    def _number(event: dict[str, Any], key: str, lo: float, hi: float, unit: str) -> float:
        value = event.get(key)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise LabkitError(f"{key} must be a number ({unit})", code="bad_input",
                              fix=f"send a number from {lo} to {hi}")
        if not lo <= value <= hi:
            raise LabkitError(f"{key}={value} is out of range", code="bad_input",
                              fix=f"send a number from {lo} to {hi} ({unit})")
        return float(value)

    # ---- live updates -------------------------------------------------------------------
    def poll_once(self) -> bool:
        """Publish `bench.state` if anything changed since the last poll."""
        state = self.state()
        with self._lock:
            changed = state != self._last
            self._last = state
        if changed:
            self.bus.publish("bench.state", state)
        return changed

    def start(self) -> "VirtualBench":
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="labkit-bench", daemon=True)
            self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.poll_interval):
            try:
                self.poll_once()
            except Exception:  # never let a sensor glitch kill live updates
                log.exception("bench poll failed")

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
            self._thread = None
        if self._adc is not None:
            self._adc.close()
