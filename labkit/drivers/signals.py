"""Pinless gpiozero devices for detectors: the shared sub-signal device and the pin factory.

Vision and sound detectors are gpiozero `InternalDevice`s (DESIGN § 5). Each exposes small
sub-devices — `faces.count`, `clap.toggled`, `gestures.label_is("fist")` — that are `Signal`s:
recomputed whenever the parent has a new result, with their own edge events, so they compose
with gpiozero (`led.source = clap.toggled.values`) like any device.
"""

from __future__ import annotations

from typing import Any, Callable

from gpiozero import Device
from gpiozero.internal_devices import InternalDevice


def ensure_pin_factory() -> None:
    """gpiozero needs a pin factory even for pinless devices (their events use its ticks);
    in a plain student script, install the kit's simulated or real one."""
    if Device.pin_factory is not None:
        return
    from labkit.config import Settings
    from labkit.drivers.gpio import install_pin_factory, make_pin_factory
    from labkit.drivers.hardware import resolve_hardware

    install_pin_factory(make_pin_factory(resolve_hardware(Settings.from_env().hardware)))


class ValueDevice(InternalDevice):
    """A pinless device whose `value` is whatever its owner last stored in `_value`."""

    _value: Any

    @property
    def value(self) -> Any:
        self._check_open()
        return self._value

    @property
    def is_active(self) -> bool:
        return bool(self.value)


class Signal(ValueDevice):
    """A small device following one aspect of a parent detector.

    The parent must have `pin_factory` and a `_children` list and call `_refresh()` on each
    child after every new result. Numeric signals give floats; text signals (a label) give str.
    """

    def __init__(self, parent: Any, getter: Callable[[], Any], name: str) -> None:
        self._parent = parent
        self._getter = getter
        self.name = name
        super().__init__(pin_factory=parent.pin_factory)
        self._value = self._read()
        self._fire_events(self.pin_factory.ticks(), bool(self._value))

    def _read(self) -> Any:
        v = self._getter()
        return v if isinstance(v, str) else float(v)

    def _refresh(self) -> None:
        if self._closed:
            return
        self._value = self._read()
        self._fire_events(self.pin_factory.ticks(), bool(self._value))

    def close(self) -> None:
        if self in self._parent._children:
            self._parent._children.remove(self)
        super().close()

    def __repr__(self) -> str:
        return f"<labkit {type(self._parent).__name__}.{self.name} value={self._value!r}>"
