"""The kit's named devices: `kit.led`, `kit.rgb`, `kit.servo` … built from the wiring.

Labs and student programs use names, never pins, so a school that wires differently edits
`wiring.yaml` once. Devices are ordinary gpiozero objects, created on first use with the kit's
pin factory, so everything gpiozero teaches (`kit.led.source = faces`) works on them.
"""

from __future__ import annotations

import threading
from typing import Any, Callable

import gpiozero

from labkit.drivers.wiring import DeviceSpec, Wiring


def _build(spec: DeviceSpec, factory: Any) -> gpiozero.Device:
    p, o = spec.pins, spec.options
    builders: dict[str, Callable[[], gpiozero.Device]] = {
        "LED": lambda: gpiozero.LED(p["pin"], pin_factory=factory),
        "PWMLED": lambda: gpiozero.PWMLED(p["pin"], pin_factory=factory),
        "Buzzer": lambda: gpiozero.Buzzer(p["pin"], pin_factory=factory),
        "TonalBuzzer": lambda: gpiozero.TonalBuzzer(p["pin"], pin_factory=factory),
        "DigitalOutputDevice": lambda: gpiozero.DigitalOutputDevice(p["pin"], pin_factory=factory),
        "RGBLED": lambda: gpiozero.RGBLED(p["red"], p["green"], p["blue"], pin_factory=factory),
        "AngularServo": lambda: gpiozero.AngularServo(
            p["pin"], min_angle=o["min_angle"], max_angle=o["max_angle"],
            min_pulse_width=o["min_pulse_width"], max_pulse_width=o["max_pulse_width"],
            initial_angle=None, pin_factory=factory),
        "Button": lambda: gpiozero.Button(p["pin"], pull_up=o["pull_up"], pin_factory=factory),
        "MotionSensor": lambda: gpiozero.MotionSensor(p["pin"], pin_factory=factory),
        "DistanceSensor": lambda: gpiozero.DistanceSensor(
            echo=p["echo"], trigger=p["trigger"], max_distance=o["max_distance"],
            pin_factory=factory),
        "MCP3008": lambda: gpiozero.MCP3008(channel=o["channel"], pin_factory=factory),
    }
    return builders[spec.type]()


class Kit:
    """Named gpiozero devices for one kit, created lazily and closed together."""

    def __init__(self, wiring: Wiring, factory: Any, hardware: str = "sim") -> None:
        self.wiring = wiring
        self.factory = factory
        self.hardware = hardware
        self._devices: dict[str, gpiozero.Device] = {}
        self._lock = threading.RLock()

    def device(self, name: str) -> Any:
        """The gpiozero device wired as `name` (created on first use)."""
        with self._lock:
            if name not in self._devices:
                self._devices[name] = _build(self.wiring[name], self.factory)
            return self._devices[name]

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") or name in ("wiring", "factory", "hardware"):
            raise AttributeError(name)
        return self.device(name)

    def opened(self) -> dict[str, Any]:
        with self._lock:
            return dict(self._devices)

    def release(self, name: str) -> None:
        """Close one device so its pins can be used by another program part."""
        with self._lock:
            dev = self._devices.pop(name, None)
        if dev is not None:
            dev.close()

    def reset_outputs(self) -> None:
        """Switch every output off and detach sources (a lab's 'reset')."""
        with self._lock:
            devices = list(self._devices.values())
        for dev in devices:
            if hasattr(dev, "source"):
                dev.source = None
            if hasattr(dev, "off"):
                dev.off()
            elif hasattr(dev, "detach"):
                dev.detach()

    def close(self) -> None:
        with self._lock:
            devices, self._devices = list(self._devices.values()), {}
        for dev in devices:
            dev.close()
