"""The kit's wiring: which device name sits on which pins.

Read from `wiring.yaml` in the data dir (falling back to the standard kit's), validated so that a
typo — a pin used twice, an unknown device type, a pin that does not exist — is reported in one
line naming the device, instead of surfacing as a gpiozero error halfway through a lesson.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from labkit import yamlio
from labkit.errors import LabkitError

DEFAULT_WIRING = Path(__file__).with_name("wiring.yaml")

# type -> (pin keys, optional keys with defaults, role)
DEVICE_TYPES: dict[str, tuple[tuple[str, ...], dict[str, Any], str]] = {
    "LED": (("pin",), {}, "output"),
    "PWMLED": (("pin",), {}, "output"),
    "Buzzer": (("pin",), {}, "output"),
    "TonalBuzzer": (("pin",), {}, "output"),
    "DigitalOutputDevice": (("pin",), {}, "output"),
    "RGBLED": (("red", "green", "blue"), {}, "output"),
    "AngularServo": (("pin",), {"min_angle": -90, "max_angle": 90,
                                "min_pulse_width": 0.001, "max_pulse_width": 0.002}, "output"),
    "Button": (("pin",), {"pull_up": True}, "input"),
    "MotionSensor": (("pin",), {}, "input"),
    "DistanceSensor": (("trigger", "echo"), {"max_distance": 2.0}, "input"),
    "MCP3008": ((), {"channel": 0, "sensor": None}, "analog"),
}
SPI0_PINS = (8, 9, 10, 11)  # CE0, MISO, MOSI, SCLK — the MCP3008 lives here
VALID_PINS = range(2, 28)
ANALOG_SENSORS = (None, "TMP36")


@dataclass(frozen=True)
class DeviceSpec:
    name: str
    type: str
    pins: dict[str, int]
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def role(self) -> str:
        return DEVICE_TYPES[self.type][2]

    @property
    def pin_numbers(self) -> list[int]:
        return list(self.pins.values())


@dataclass(frozen=True)
class Wiring:
    devices: dict[str, DeviceSpec]
    source: Path

    def __getitem__(self, name: str) -> DeviceSpec:
        try:
            return self.devices[name]
        except KeyError:
            raise LabkitError(f"the kit has no device called {name!r}",
                              fix=f"use one of: {', '.join(self.devices)} (see {self.source})",
                              code="unknown_device") from None

    def __contains__(self, name: object) -> bool:
        return name in self.devices

    def names(self, role: str | None = None) -> list[str]:
        return [n for n, d in self.devices.items() if role is None or d.role == role]


def _bad(path: Path, what: str, fix: str) -> LabkitError:
    return LabkitError(f"wiring file {path}: {what}", fix=fix, code="bad_wiring")


def parse_wiring(data: Any, source: Path) -> Wiring:
    """Validate a parsed wiring document and build a `Wiring`."""
    if not isinstance(data, dict) or not isinstance(data.get("devices"), dict):
        raise _bad(source, "it must have a 'devices:' mapping", "start from the standard file "
                   f"{DEFAULT_WIRING}")
    devices: dict[str, DeviceSpec] = {}
    used: dict[int, str] = {}
    channels: dict[int, str] = {}
    for name, entry in data["devices"].items():
        if not isinstance(name, str) or not name.isidentifier():
            raise _bad(source, f"device name {name!r} is not a simple name", "use letters, digits "
                       "and _ (e.g. led, rgb, fan2)")
        if not isinstance(entry, dict) or "type" not in entry:
            raise _bad(source, f"device {name!r} needs a 'type'",
                       f"set type to one of: {', '.join(DEVICE_TYPES)}")
        dtype = entry["type"]
        if dtype not in DEVICE_TYPES:
            raise _bad(source, f"device {name!r} has unknown type {dtype!r}",
                       f"use one of: {', '.join(DEVICE_TYPES)}")
        pin_keys, defaults, _role = DEVICE_TYPES[dtype]
        unknown = set(entry) - {"type", *pin_keys, *defaults}
        if unknown:
            raise _bad(source, f"device {name!r} has unknown setting(s) {', '.join(sorted(unknown))}",
                       f"a {dtype} takes: {', '.join([*pin_keys, *defaults]) or 'no settings'}")
        pins: dict[str, int] = {}
        for key in pin_keys:
            pin = entry.get(key)
            if isinstance(pin, bool) or not isinstance(pin, int) or pin not in VALID_PINS:
                raise _bad(source, f"device {name!r} {key} pin {pin!r} is not a GPIO pin",
                           "use a BCM number from 2 to 27")
            if pin in used:
                raise _bad(source, f"pin {pin} is used twice ({used[pin]} and {name})",
                           "give each device its own pin")
            used[pin] = name
            pins[key] = pin
        options = {k: entry.get(k, v) for k, v in defaults.items()}
        if dtype == "MCP3008":
            ch = options["channel"]
            if isinstance(ch, bool) or not isinstance(ch, int) or not 0 <= ch <= 7:
                raise _bad(source, f"device {name!r} channel {ch!r} is not 0–7",
                           "an MCP3008 has channels 0 to 7")
            if ch in channels:
                raise _bad(source, f"MCP3008 channel {ch} is used twice ({channels[ch]} and "
                           f"{name})", "give each analog sensor its own channel")
            if options["sensor"] not in ANALOG_SENSORS:
                raise _bad(source, f"device {name!r} sensor {options['sensor']!r} is unknown",
                           "leave sensor out, or use TMP36")
            channels[ch] = name
        devices[name] = DeviceSpec(name, dtype, pins, options)
    if channels:
        for pin in SPI0_PINS:
            if pin in used:
                raise _bad(source, f"pin {pin} ({used[pin]}) is an SPI pin needed by the MCP3008",
                           "move that device to another pin")
    return Wiring(devices, source)


def load_wiring(path: Path | None = None) -> Wiring:
    """Load the wiring from `path` if it exists, else the standard kit wiring."""
    source = path if path is not None and path.exists() else DEFAULT_WIRING
    try:
        data = yamlio.safe_load(source.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise _bad(source, f"is not valid YAML{where}", "fix the indentation/colons there, or "
                   "delete it to use the standard wiring") from None
    except OSError as exc:
        raise _bad(source, f"cannot be read ({exc.strerror})", "check the file permissions") from None
    return parse_wiring(data, source)
